// Query by an image that is not in the project: a file button and dropping a file on a zone.

export class UploadButton {
  readonly root: HTMLLabelElement;

  constructor(dropZone: HTMLElement, onFile: (file: File) => void) {
    this.root = document.createElement("label");
    this.root.className = "button";
    this.root.title = "rank every image by its similarity to an image file";
    const input = document.createElement("input");
    input.type = "file";
    input.accept = "image/*";
    input.hidden = true;
    input.dataset.testid = "upload-input";
    this.root.append("upload image… ", input);
    input.addEventListener("change", () => {
      const file = input.files?.[0];
      if (file) onFile(file);
      // Reset so choosing the same file again still fires "change".
      input.value = "";
    });
    dropZone.addEventListener("dragover", (e) => {
      if (e.dataTransfer?.types.includes("Files")) {
        e.preventDefault();
        dropZone.classList.add("dropping");
      }
    });
    dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dropping"));
    dropZone.addEventListener("drop", (e) => {
      dropZone.classList.remove("dropping");
      const file = e.dataTransfer?.files[0];
      if (!file) return;
      e.preventDefault();
      onFile(file);
    });
  }
}
