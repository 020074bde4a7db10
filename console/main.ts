import { render } from "preact";
import { App } from "./app";
import { html } from "./html";

const root = document.getElementById("app");
if (root) {
  root.textContent = ""; // the static "Loading" placeholder
  render(html`<${App} />`, root);
}
