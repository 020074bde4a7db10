import { h } from "preact";
import htm from "htm";

/** JSX-like templates without a compile step for JSX: `html\`<p>${x}</p>\`` builds Preact elements. */
export const html = htm.bind(h);
