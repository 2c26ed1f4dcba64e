// What a query row calls its query: the image's file name and label, or the uploaded file's
// name. Names arrive after the row is drawn (one /api/images/{id} request), so rows start
// with a placeholder.

import type { QueryRef } from "./queryList";

export interface QueryName {
  /** File name (path basename) or the uploaded file's name. */
  name: string;
  /** Full path inside the image folder, for the tooltip ("" for uploads). */
  path: string;
  /** The image's label; null for an unlabelled image or an upload. */
  label: string | null;
}

/** The last part of a slash-separated path. */
export function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** The name to show before (or without) the image's info. */
export function placeholderName(ref: QueryRef): QueryName {
  if (ref.kind === "upload") return uploadName("");
  return { name: `image ${ref.id}`, path: "", label: null };
}

/** The name of an uploaded query from the server's record of it ("" when the file had none). */
export function uploadName(name: string): QueryName {
  return { name: name || "uploaded image", path: "", label: null };
}

/** The name of an image of the project from its info. */
export function imageName(info: { path: string; label?: string | null }): QueryName {
  return { name: basename(info.path), path: info.path, label: info.label ?? null };
}
