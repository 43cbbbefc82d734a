import { mkdirSync } from "node:fs";
import { chromium, type Browser, type BrowserContextOptions, type Page } from "playwright-core";
import type { TestLocus } from "./locus.ts";

export const SCREENSHOTS = "test-results";

/** Debian's Chromium, headless with software rendering, as the browser tests and benches use it. */
export function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      ...["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
      ...["--disable-background-networking", "--disable-component-update", "--disable-sync"],
    ],
  });
}

/**
 * A page signed in as the test server's admin (its session cookie set), with every request off
 * this machine refused (no internet here: map tiles must fail fast rather than hang the page),
 * and the console's CSP reports collected in `cspViolations`.
 */
export async function adminPage(
  browser: Browser,
  server: TestLocus,
  options: BrowserContextOptions = {},
): Promise<{ page: Page; cspViolations: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const [name, value] = server.adminCookie.split("=") as [string, string];
  await context.addCookies([{ name, value, url: server.url }]);
  const page = await context.newPage();
  // A step that cannot happen fails in seconds, naming the step, instead of at the test's timeout.
  page.setDefaultTimeout(10_000);
  const cspViolations: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) cspViolations.push(message.text());
  });
  await page.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());
  return { page, cspViolations };
}
