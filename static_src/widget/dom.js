var STORAGE_PREFIX = "chatbot:v1:";
var MAX_STORED_MESSAGES = 60;
// Sent on document when a widget opens its panel (the others of its corner close theirs).
var OPEN_EVENT = "chatbot-widget:open";
var INTERRUPTED = "The answer was interrupted: the page was reloaded or left before it finished.";
var SVG_NS = "http://www.w3.org/2000/svg";

// ------------------------------------------------------------------ DOM helpers (no innerHTML)

function el(tag, attrs, children) {
  var node = document.createElement(tag);
  if (attrs) {
    Object.keys(attrs).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    });
  }
  (children || []).forEach(function (child) {
    if (child === null || child === undefined) return;
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  });
  return node;
}

function icon(paths, size) {
  var svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size || 22));
  svg.setAttribute("height", String(size || 22));
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  paths.forEach(function (d) {
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
  });
  return svg;
}

var ICONS = {
  chat: ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"],
  close: ["M6 6l12 12M18 6L6 18"],
  send: ["M3 11.5L21 3l-6.5 18-3-7.5z", "M11.5 13.5L21 3"],
  stop: ["M7 7h10v10H7z"],
  plus: ["M12 5v14M5 12h14"],
  retry: ["M20 11a8 8 0 1 0-2.3 5.7", "M20 4v7h-7"],
};
