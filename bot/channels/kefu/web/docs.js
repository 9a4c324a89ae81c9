// The API reference, drawn from /openapi.json with local code only (Swagger UI would need a CDN).
// Texts from the document are set with textContent.
"use strict";

(function () {
  const operations = document.getElementById("operations");
  const schemasBox = document.getElementById("schemas");
  const loginForm = document.getElementById("login");

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function refName(ref) {
    return String(ref).split("/").pop();
  }

  function typeOf(schema) {
    if (!schema) return "";
    if (schema.$ref) return refName(schema.$ref);
    if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
    if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    if (schema.type === "array") return typeOf(schema.items) + "[]";
    if (schema.type === "object" && schema.additionalProperties) return "{string: " + typeOf(schema.additionalProperties) + "}";
    return schema.type || "any";
  }

  function table(headers, rows) {
    const t = el("table");
    const head = el("tr");
    headers.forEach((h) => head.appendChild(el("th", "", h)));
    t.appendChild(head);
    rows.forEach((cells) => {
      const tr = el("tr");
      cells.forEach((c) => tr.appendChild(el("td", "", c)));
      t.appendChild(tr);
    });
    return t;
  }

  function drawOperation(path, method, op) {
    const box = el("section", "operation");
    const title = el("h3");
    title.appendChild(el("span", "method " + method, method.toUpperCase()));
    title.appendChild(el("span", "path", path));
    title.appendChild(el("span", "", op.summary || ""));
    if (op.security && op.security.length) title.appendChild(el("span", "lock", "需要令牌"));
    box.appendChild(title);
    if (op.description) box.appendChild(el("p", "", op.description));
    const params = op.parameters || [];
    if (params.length) {
      box.appendChild(el("strong", "", "参数"));
      box.appendChild(table(["名称", "位置", "类型", "必填", "说明"],
        params.map((p) => [p.name, p.in, typeOf(p.schema), p.required ? "是" : "否", p.description || (p.schema && p.schema.description) || ""])));
    }
    const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    if (body) {
      const line = el("p");
      line.appendChild(el("strong", "", "请求体（JSON）："));
      line.appendChild(el("code", "", typeOf(body.schema)));
      box.appendChild(line);
    }
    const responses = op.responses || {};
    box.appendChild(el("strong", "", "响应"));
    box.appendChild(table(["状态码", "说明", "内容"], Object.keys(responses).map((code) => {
      const content = responses[code].content || {};
      const kinds = Object.keys(content).map((type) => type + (content[type].schema ? " " + typeOf(content[type].schema) : ""));
      return [code, responses[code].description || "", kinds.join("；")];
    })));
    operations.appendChild(box);
  }

  function drawSchema(name, schema) {
    const box = el("section", "schema");
    box.appendChild(el("h3", "", name));
    if (schema.description) box.appendChild(el("p", "", schema.description));
    const required = new Set(schema.required || []);
    const props = schema.properties || {};
    box.appendChild(table(["字段", "类型", "必填", "说明"],
      Object.keys(props).map((key) => [key, typeOf(props[key]), required.has(key) ? "是" : "否", props[key].description || ""])));
    schemasBox.appendChild(box);
  }

  function draw(doc) {
    document.getElementById("title").textContent = doc.info.title + "（" + doc.info.version + "）";
    document.getElementById("description").textContent = doc.info.description || "";
    operations.replaceChildren();
    schemasBox.replaceChildren();
    Object.keys(doc.paths).forEach((path) => {
      Object.keys(doc.paths[path]).forEach((method) => drawOperation(path, method, doc.paths[path][method]));
    });
    const schemas = (doc.components && doc.components.schemas) || {};
    Object.keys(schemas).sort().forEach((name) => drawSchema(name, schemas[name]));
  }

  async function load() {
    const response = await fetch("/openapi.json", { credentials: "same-origin" });
    if (response.status === 401) {
      document.getElementById("description").textContent = "需要登录后才能读取接口文档。";
      loginForm.hidden = false;
      return;
    }
    loginForm.hidden = true;
    draw(await response.json());
  }

  loginForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = document.getElementById("token").value;
    const response = await fetch("/api/v1/session", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: token }),
    });
    document.getElementById("token").value = "";
    if (response.ok) load();
    else document.getElementById("description").textContent = "令牌无效，请重试。";
  });

  load().catch(() => { document.getElementById("description").textContent = "读取 /openapi.json 失败。"; });
})();
