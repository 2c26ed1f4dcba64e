// Query by words: a text box, shown only while the feature set in use has a text tower (a CLIP-like
// model's image embedding). The server embeds the text and holds it like an uploaded image.

export class TextQueryBox {
  readonly root: HTMLFormElement;
  private readonly input: HTMLInputElement;
  private readonly button: HTMLButtonElement;

  /** `textSets`: the feature sets that accept text (the project's `text_feature_sets`). */
  constructor(
    private readonly textSets: readonly string[],
    onText: (text: string) => Promise<unknown>,
  ) {
    this.root = document.createElement("form");
    this.root.className = "text-query";
    this.root.title = "rank every image by its similarity to a text, through the model's text tower";
    this.input = document.createElement("input");
    this.input.type = "search";
    this.input.placeholder = "query by text…";
    this.input.maxLength = 1000;
    this.input.setAttribute("aria-label", "text query");
    this.input.dataset.testid = "text-query-input";
    this.button = document.createElement("button");
    this.button.type = "submit";
    this.button.textContent = "rank";
    this.button.dataset.testid = "text-query-submit";
    this.root.append(this.input, this.button);
    this.root.hidden = true;
    this.root.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = this.input.value.trim();
      if (!text || this.button.disabled) return;
      this.setBusy(true);
      onText(text).then(
        () => {
          this.input.value = "";
          this.setBusy(false);
        },
        () => this.setBusy(false), // the caller shows the error; the text stays to be corrected
      );
    });
  }

  /** Show the box only for a feature set that accepts text. */
  render(featureSet: string): void {
    this.root.hidden = !this.textSets.includes(featureSet);
  }

  private setBusy(busy: boolean): void {
    this.input.disabled = busy;
    this.button.disabled = busy;
  }
}
