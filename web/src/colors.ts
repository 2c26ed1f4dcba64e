// Query and label colours. The 2015 tool ran out of colours at the 7th query; here a query's
// style is (colour, dash) drawn from Okabe–Ito (safe for the common colour-vision deficiencies),
// then the same hues with dash patterns, then lighter/darker variants: it never runs out.

import { schemeTableau10 } from "d3-scale-chromatic";

/** Okabe & Ito (2008), ordered so the low-contrast yellow comes last. */
export const OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"] as const;

/** Canvas/SVG dash arrays; [] is solid. */
const DASHES: readonly (readonly number[])[] = [[], [6, 3], [2, 2], [8, 3, 2, 3]];

export interface QueryStyle {
  colour: string;
  dash: readonly number[];
}

/** The style of colour slot `i` (0, 1, 2, ...): distinct for every slot below 8 × 4 × 9 = 288. */
export function queryStyle(i: number): QueryStyle {
  const slot = Math.max(0, Math.floor(i));
  const hue = slot % OKABE_ITO.length;
  const round = Math.floor(slot / OKABE_ITO.length);
  const dash = DASHES[round % DASHES.length];
  const variant = Math.floor(round / DASHES.length);
  return { colour: shade(OKABE_ITO[hue], variantAmount(variant)), dash };
}

/** 0, then -0.2, +0.2, -0.35, +0.35, ...: darker/lighter mixes, alternating, bounded. */
function variantAmount(v: number): number {
  if (v === 0) return 0;
  const step = Math.ceil(v / 2);
  const amount = Math.min(0.8, 0.05 + 0.15 * step);
  return v % 2 === 1 ? -amount : amount;
}

/** Mix a #rrggbb colour towards black (amount < 0) or white (amount > 0). */
function shade(hex: string, amount: number): string {
  const n = parseInt(hex.slice(1), 16);
  const channels = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  const target = amount < 0 ? 0 : 255;
  const a = Math.abs(amount);
  const mixed = channels.map((c) => Math.round(c + (target - c) * a));
  // Pure black has no darker shade: push it to grey instead so variants stay distinct.
  if (amount < 0 && channels.every((c) => c === 0)) return shade(hex, a / 2);
  return "#" + mixed.map((c) => c.toString(16).padStart(2, "0")).join("");
}

/** The smallest colour slot not used by `used`, so deleting a query frees its colour. */
export function nextSlot(used: Iterable<number>): number {
  const taken = new Set(used);
  let i = 0;
  while (taken.has(i)) i++;
  return i;
}

/**
 * Label borders: ten categorical hues (Tableau 10), and past them the same hues with a dash
 * pattern, so label 12 is "orange, dashed", not a shade of orange beside label 2's. Patterns
 * are in units of the border's width, their gaps drawn white: they read on any thumbnail.
 * 10 hues x 7 patterns tell 70 labels apart; past those, shades of the hues make a third
 * dimension (never darker than 0.3 towards black, so LIT_ON_LABELS stays outside the palette).
 */
export const LABEL_PATTERNS: readonly (readonly number[])[] = [[], [3, 1.5], [1, 1], [4, 1.5, 1, 1.5], [1, 1, 1, 3], [6, 3], [2, 2, 6, 2]];
const LABEL_SHADES = [0, -0.3, 0.35, -0.15, 0.2, 0.5, -0.22, 0.1, 0.6];

export interface LabelStyle {
  colour: string;
  /** Dash pattern in units of the border width; [] is solid. */
  dash: readonly number[];
}

/** The border style of label code `code`: (hue, pattern, shade), distinct for the first 630 labels. */
export function labelStyle(code: number): LabelStyle {
  if (code < 0) return { colour: "transparent", dash: [] };
  const hues = schemeTableau10.length;
  const base = schemeTableau10[code % hues];
  const round = Math.floor(code / hues);
  const dash = LABEL_PATTERNS[round % LABEL_PATTERNS.length];
  const amount = LABEL_SHADES[Math.floor(round / LABEL_PATTERNS.length) % LABEL_SHADES.length];
  return { colour: amount === 0 ? base : shade(base, amount), dash };
}

/** Colour of label code `code` (its hue without the pattern): the overview, one pixel per cell, uses it. */
export function labelColour(code: number): string {
  return labelStyle(code).colour;
}

/**
 * A CSS background drawing `style` as vertical stripes `unit` px per pattern unit (white gaps):
 * the legend's swatch shows the pattern the map draws.
 */
export function labelSwatch({ colour, dash }: LabelStyle, unit = 3): string {
  if (dash.length === 0) return colour;
  const stops: string[] = [];
  let at = 0;
  dash.forEach((len, i) => {
    const c = i % 2 === 0 ? colour : "#fff";
    stops.push(`${c} ${at}px ${at + len * unit}px`);
    at += len * unit;
  });
  return `repeating-linear-gradient(to bottom, ${stops.join(", ")})`;
}

/** The brushed window's outline while label borders show: outside the label palette. */
export const LIT_ON_LABELS = "#111111";
