// Query by an image that is not in the project: a file input and dropping a file on the pane.

export function uploadControls(
  input: HTMLInputElement,
  dropZone: HTMLElement,
  onFile: (file: File) => void,
): void {
  input.type = "file";
  input.accept = "image/*";
  input.dataset.testid = "upload-input";
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
