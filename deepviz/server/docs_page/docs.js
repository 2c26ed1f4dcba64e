// The offline API docs page: renders this server's OpenAPI document as plain HTML.
// Only textContent is used, so nothing in the schema can become markup, and nothing is
// loaded from anywhere but this server (the page runs under the server's CSP).
"use strict";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function refName(ref) {
  return ref.split("/").pop();
}

// A short type expression for a JSON schema: "integer", "string | null", "array of integer", "ProjectInfo".
function typeOf(schema) {
  if (!schema) return "";
  if (schema.$ref) return refName(schema.$ref);
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
  if (schema.type === "array") return "array of " + typeOf(schema.items);
  if (schema.type === "object" && schema.additionalProperties) return "map of " + typeOf(schema.additionalProperties);
  if (schema.format === "binary") return "file";
  return schema.type || "any";
}

function table(headings, rows) {
  const t = el("table");
  const head = t.createTHead().insertRow();
  for (const h of headings) head.appendChild(el("th", "", h));
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((cell, i) => tr.appendChild(el("td", i === 0 ? "path" : "", cell)));
  }
  return t;
}

function parameters(op) {
  const rows = (op.parameters || []).map((p) => [
    p.name, p.in, p.required ? "yes" : "no", typeOf(p.schema), p.description || (p.schema && p.schema.description) || "",
  ]);
  return rows.length ? table(["parameter", "in", "required", "type", "description"], rows) : null;
}

function requestBody(op) {
  if (!op.requestBody) return null;
  const rows = Object.entries(op.requestBody.content || {}).map(([type, c]) => [type, typeOf(c.schema)]);
  return table(["request body", "schema"], rows);
}

function responses(op) {
  const rows = Object.entries(op.responses || {}).map(([code, r]) => [
    code, r.description || "", Object.entries(r.content || {}).map(([t, c]) => (c.schema ? `${t}: ${typeOf(c.schema)}` : t)).join(", "),
  ]);
  return table(["status", "meaning", "body"], rows);
}

function endpoint(path, method, op, index) {
  const box = el("section", "endpoint");
  box.id = "op-" + index;
  const h = el("h3");
  h.append(el("span", "method " + method, method.toUpperCase()), el("span", "path", path));
  box.appendChild(h);
  if (op.summary) box.appendChild(el("p", "", op.summary));
  if (op.description) box.appendChild(el("p", "description", op.description));
  for (const part of [parameters(op), requestBody(op), responses(op)]) if (part) box.appendChild(part);
  return box;
}

function schemaSection(name, schema) {
  const box = el("section", "endpoint");
  box.appendChild(el("h3", "path", name));
  if (schema.description) box.appendChild(el("p", "description", schema.description));
  const required = new Set(schema.required || []);
  const rows = Object.entries(schema.properties || {}).map(([prop, s]) => [
    prop, typeOf(s), required.has(prop) ? "yes" : "no", s.description || "",
  ]);
  if (rows.length) box.appendChild(table(["field", "type", "required", "description"], rows));
  return box;
}

function render(doc) {
  document.getElementById("title").textContent = `${doc.info.title} API ${doc.info.version}`;
  const main = document.getElementById("endpoints");
  const toc = document.getElementById("toc");
  main.replaceChildren();
  let index = 0;
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      main.appendChild(endpoint(path, method, op, index));
      const link = el("a", "", `${method.toUpperCase()} ${path}`);
      link.href = "#op-" + index;
      toc.appendChild(link);
      index += 1;
    }
  }
  const schemas = document.getElementById("schemas");
  const models = Object.entries((doc.components && doc.components.schemas) || {});
  if (models.length) schemas.appendChild(el("h2", "", "Models"));
  for (const [name, schema] of models) schemas.appendChild(schemaSection(name, schema));
  document.body.dataset.ready = "true";
}

fetch(document.body.dataset.openapi)
  .then((r) => {
    if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
    return r.json();
  })
  .then(render)
  .catch((err) => {
    document.getElementById("endpoints").replaceChildren(el("p", "", "Could not load the OpenAPI document: " + err));
  });
