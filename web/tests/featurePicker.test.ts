// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { FeaturePicker, featureSlice } from "../src/featurePicker";
import { parseHash, Store } from "../src/store";

describe("feature picker", () => {
  it("reads f; the default or an unknown set reads as null and is not written", () => {
    const slice = featureSlice(["colour", "timm:vit/b 16"], "colour");
    expect(slice.parse(parseHash("#f=timm%3Avit%2Fb%2016"))).toBe("timm:vit/b 16");
    expect(slice.parse(parseHash("#f=colour"))).toBeNull();
    expect(slice.parse(parseHash("#f=gone"))).toBeNull();
    expect(slice.serialise(null)).toEqual([]);
    expect(slice.serialise("timm:vit/b 16")).toEqual([["f", "timm%3Avit%2Fb%2016"]]);
  });
  it("is hidden with one feature set and switches between several", () => {
    expect(new FeaturePicker(new Store(""), ["colour"], "colour").root.hidden).toBe(true);
    const picker = new FeaturePicker(new Store(""), ["colour", "vit"], "colour");
    expect(picker.root.hidden).toBe(false);
    const sel = picker.root.querySelector("select");
    if (!sel) throw new Error("no select");
    sel.value = "vit";
    sel.dispatchEvent(new Event("change"));
    expect(picker.cell.value).toBe("vit");
    sel.value = "colour";
    sel.dispatchEvent(new Event("change"));
    expect(picker.cell.value).toBeNull();
    expect(picker.current).toBe("colour");
  });
});
