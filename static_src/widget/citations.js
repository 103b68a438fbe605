// ------------------------------------------------------------------ citations

/** Numbered chips under an answer; clicking one shows its title, snippet and source (t: the
 * widget's texts, i18n.js; English by default). */
function renderCitations(citations, container, idPrefix, t) {
  t = t || ENGLISH;
  container.replaceChildren();
  if (!citations || !citations.length) {
    container.hidden = true;
    return;
  }
  container.hidden = false;
  var detail = el("div", { className: "cb-cite-detail", role: "note", hidden: true, id: idPrefix + "-detail" });
  var chips = el("div", { className: "cb-chips" }, [el("span", { className: "cb-chips-label", text: t("sources") })]);
  citations.forEach(function (c, i) {
    var n = c.index || i + 1;
    var title = c.document_title || c.title || t("source", { n: n });
    var chip = el("button", {
      type: "button",
      className: "cb-chip",
      title: title + (c.snippet ? " \u2014 " + c.snippet : ""),
      "aria-expanded": "false",
      "aria-controls": idPrefix + "-detail",
      "data-index": n,
    }, [el("span", { className: "cb-chip-n", text: String(n) }), el("span", { className: "cb-chip-title", text: title })]);
    chip.addEventListener("click", function () {
      var open = chip.getAttribute("aria-expanded") === "true";
      Array.prototype.forEach.call(chips.querySelectorAll(".cb-chip"), function (other) {
        other.setAttribute("aria-expanded", "false");
      });
      if (open) {
        detail.hidden = true;
        return;
      }
      chip.setAttribute("aria-expanded", "true");
      detail.replaceChildren(
        el("div", { className: "cb-cite-title" }, [el("span", { className: "cb-chip-n", text: String(n) }), " " + title])
      );
      if (c.snippet) detail.appendChild(el("blockquote", { className: "cb-cite-snippet", text: c.snippet }));
      var href = safeHref(c.source);
      if (href) {
        var a = link(href, detail);
        a.className = "cb-cite-source";
        a.textContent = t("openSource");
      } else if (c.source) {
        detail.appendChild(el("div", { className: "cb-cite-source", text: String(c.source) }));
      }
      detail.hidden = false;
      if (detail.scrollIntoView) detail.scrollIntoView({ block: "nearest" });
    });
    chips.appendChild(chip);
  });
  container.appendChild(chips);
  container.appendChild(detail);
}

function citationRefFactory(getCitations, rootContainer, t) {
  return function (n, parent) {
    var list = getCitations();
    if (!list || !list.some(function (c, i) { return (c.index || i + 1) === n; })) return false;
    var ref = el("button", { type: "button", className: "cb-ref", "aria-label": (t || ENGLISH)("source", { n: n }), text: String(n) });
    ref.addEventListener("click", function () {
      var chip = rootContainer && rootContainer.querySelector('.cb-chip[data-index="' + n + '"]');
      if (chip) { chip.click(); chip.focus(); }
    });
    parent.appendChild(el("sup", null, [ref]));
    return true;
  };
}
