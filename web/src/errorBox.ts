// The message box for what went wrong (a failed upload, an API that refused), hidden by a click.

export class ErrorBox {
  readonly root: HTMLDivElement;

  constructor() {
    this.root = document.createElement("div");
    this.root.className = "error";
    this.root.dataset.testid = "error-message";
    this.root.setAttribute("role", "alert");
    this.root.hidden = true;
    this.root.addEventListener("click", () => this.hide());
  }

  show(message: string): void {
    this.root.textContent = message;
    this.root.hidden = false;
  }

  hide(): void {
    this.root.hidden = true;
  }
}
