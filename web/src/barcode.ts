// A concept on a query's ranking: one tick per member at its rank, along the same rank axis as
// the row's curve, drawn on canvas. Members closer than a pixel share one column, so the
// barcode costs one rectangle per pixel column however many members there are.

import { positionToX } from "./rankScale";

export interface BarcodeAxis {
  /** Left of the plot in the canvas, and its width, in CSS px. */
  left: number;
  width: number;
  /** Ranks on the axis (the ranking's length) and whether the axis is logarithmic. */
  n: number;
  log: boolean;
}

/** Pixel columns (relative to the plot) that hold at least one of `ranks`. */
export function barcodeColumns(ranks: readonly number[], axis: BarcodeAxis): number[] {
  const width = Math.max(1, Math.ceil(axis.width));
  const hit = new Uint8Array(width);
  for (const r of ranks) {
    const x = Math.floor(positionToX(r + 0.5, axis.width, axis.n, axis.log));
    hit[Math.min(width - 1, Math.max(0, x))] = 1;
  }
  const cols: number[] = [];
  hit.forEach((h, x) => {
    if (h) cols.push(x);
  });
  return cols;
}

/** Draw the member ticks (and a mark at rank k) on `ctx`, whose size is `height` CSS px tall. */
export function drawBarcode(
  ctx: CanvasRenderingContext2D,
  ranks: readonly number[],
  axis: BarcodeAxis,
  height: number,
  colour: string,
  k: number,
): void {
  ctx.fillStyle = "#ececea";
  ctx.fillRect(axis.left, 0, axis.width, height);
  ctx.fillStyle = colour;
  for (const x of barcodeColumns(ranks, axis)) ctx.fillRect(axis.left + x, 0, 1, height);
  if (k > 0 && k < axis.n) {
    const kx = axis.left + positionToX(k, axis.width, axis.n, axis.log);
    ctx.fillStyle = "#111";
    ctx.fillRect(Math.round(kx), 0, 1, height);
  }
}
