/** Query parameter that carries the selected vehicle, so a reload or a shared link keeps it. */
const PARAM = "device";

function readUrl(): string | null {
  return new URLSearchParams(location.search).get(PARAM) || null;
}

function writeUrl(id: string | null): void {
  const url = new URL(location.href);
  if (id) url.searchParams.set(PARAM, id);
  else url.searchParams.delete(PARAM);
  // replaceState: selecting vehicles should not fill the back button's history.
  if (url.href !== location.href) history.replaceState(history.state, "", url);
}

class Selection {
  id = $state<string | null>(readUrl());
  /** Keep the map centred on the selected vehicle; panning by hand turns it off. */
  follow = $state(readUrl() !== null);
  /** Bumped on every explicit select, even of the same vehicle, so the map can go to it again. */
  seq = $state(0);

  select(id: string): void {
    this.id = id;
    this.follow = true;
    this.seq++;
    writeUrl(id);
  }

  clear(): void {
    this.id = null;
    this.follow = false;
    writeUrl(null);
  }
}

export const selection = new Selection();
