/** Input types where keys are text (or edit a date's parts): shortcuts must leave them alone. */
const TYPING_INPUT_TYPES = new Set([
  "text",
  "search",
  "email",
  "url",
  "tel",
  "password",
  "number",
  "date",
  "datetime-local",
  "time",
  "month",
  "week",
]);

/** True when a key pressed on `target` is typing into a field rather than a command. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return true;
  return target instanceof HTMLInputElement && TYPING_INPUT_TYPES.has(target.type);
}

/**
 * An attachment (`{@attach escapeCancels(cancel)}`): Escape inside the element cancels what it
 * asks or edits, rather than closing the admin dialog around it (a modal dialog closes on
 * Escape by itself).
 */
export function escapeCancels(cancel: () => void): (element: HTMLElement) => () => void {
  return (element) => {
    const onKeydown = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      event.stopPropagation();
      cancel();
    };
    element.addEventListener("keydown", onKeydown);
    return () => element.removeEventListener("keydown", onKeydown);
  };
}
