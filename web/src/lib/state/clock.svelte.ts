/**
 * A once-a-second tick for "3 s ago" labels. One shared timer instead of one per row, and
 * nothing else re-renders on it.
 */
class Clock {
  now = $state(Date.now());

  constructor() {
    setInterval(() => {
      this.now = Date.now();
    }, 1000);
  }
}

export const clock = new Clock();
