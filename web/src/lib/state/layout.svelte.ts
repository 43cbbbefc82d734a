/** Narrow screens turn the panel into a drawer and the details card into a bottom sheet. */
export const NARROW_QUERY = "(max-width: 720px)";

/**
 * Sizes of the cards floating over the map, measured by the cards themselves, so following and
 * framing can aim at the part of the map that is actually visible.
 */
class Layout {
  narrow = $state(false);
  panelWidth = $state(0);
  detailsWidth = $state(0);
  detailsHeight = $state(0);

  constructor() {
    const media = matchMedia(NARROW_QUERY);
    this.narrow = media.matches;
    media.addEventListener("change", () => (this.narrow = media.matches));
  }
}

export const layout = new Layout();
