// ------------------------------------------------------------------ safe Markdown

function safeHref(url) {
  if (typeof url !== "string" || !/^https?:\/\//i.test(url.trim())) return null;
  try {
    var parsed = new URL(url.trim());
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch (e) {
    return null;
  }
}

function link(href, parent) {
  var a = el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow" });
  parent.appendChild(a);
  return a;
}

// Quotes nested deeper stay lines of text: an answer of thousands of ">" overflowed the call
// stack and the widget hung mid-answer. (Inline nesting is bounded by INLINE_RE itself.)
var MAX_QUOTE_DEPTH = 8;

// code | **bold** | *em* | [label](url) | [n] citation | bare http(s) URL
var INLINE_RE =
  /(`+)([^`][\s\S]*?)\1|\*\*(?=\S)([\s\S]*?\S)\*\*|\*(?=[^\s*])([^*]*?[^\s*]|[^\s*])\*|\[([^\]\n]+)\]\(([^()\s]+)\)|\[(\d{1,3})\]|(https?:\/\/[^\s<>()"'`]*[^\s<>()"'`.,;:!?])/g;

function renderInline(text, parent, opts) {
  var re = new RegExp(INLINE_RE.source, "g");
  var last = 0;
  var match;
  while ((match = re.exec(text)) !== null) {
    if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
    last = re.lastIndex;
    if (match[1]) {
      parent.appendChild(el("code", { text: match[2] }));
    } else if (match[3] !== undefined) {
      var strong = el("strong");
      renderInline(match[3], strong, opts);
      parent.appendChild(strong);
    } else if (match[4] !== undefined) {
      var em = el("em");
      renderInline(match[4], em, opts);
      parent.appendChild(em);
    } else if (match[5] !== undefined) {
      var href = safeHref(match[6]);
      if (href) renderInline(match[5], link(href, parent), opts);
      else parent.appendChild(document.createTextNode(match[0]));
    } else if (match[7] !== undefined) {
      var n = parseInt(match[7], 10);
      if (opts && opts.citationRef && opts.citationRef(n, parent)) continue;
      parent.appendChild(document.createTextNode(match[0]));
    } else if (match[8] !== undefined) {
      var bare = safeHref(match[8]);
      if (bare) link(bare, parent).textContent = match[8];
      else parent.appendChild(document.createTextNode(match[0]));
    }
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

function renderLines(lines, parent, opts) {
  lines.forEach(function (line, i) {
    if (i > 0) parent.appendChild(el("br"));
    renderInline(line, parent, opts);
  });
}

var FENCE_RE = /^\s{0,3}(```|~~~)\s*([\w+#.-]*)\s*$/;
var HEADING_RE = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
var UL_RE = /^\s{0,3}[-*+]\s+(.*)$/;
var OL_RE = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
var QUOTE_RE = /^\s{0,3}>\s?(.*)$/;
var RULE_RE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;

function isBlockStart(line) {
  return FENCE_RE.test(line) || HEADING_RE.test(line) || UL_RE.test(line) || OL_RE.test(line) ||
    QUOTE_RE.test(line) || RULE_RE.test(line);
}

// GitHub-style pipe tables: a header row, a delimiter row of as many cells ("| --- | :-: | --: |",
// its colons the columns' alignment), then body rows (lines with a "|") up to a blank line or
// another block. Cells are inline Markdown, like a paragraph's text.
var TABLE_DELIM_CELL_RE = /^:?-+:?$/;
var MAX_TABLE_COLUMNS = 64;

/** The cells of a table row: its outer pipes dropped, "\|" a literal pipe. */
function tableCells(line) {
  var text = line.trim();
  if (text.charAt(0) === "|") text = text.slice(1);
  if (/(^|[^\\])\|$/.test(text)) text = text.slice(0, -1);
  var cells = [];
  var cell = "";
  for (var k = 0; k < text.length; k++) {
    var ch = text.charAt(k);
    if (ch === "\\" && text.charAt(k + 1) === "|") {
      cell += "|";
      k++;
    } else if (ch === "|") {
      cells.push(cell.trim());
      cell = "";
    } else {
      cell += ch;
    }
  }
  cells.push(cell.trim());
  return cells;
}

/**
 * The columns' alignments ("left", "center", "right" or "") when lines[i] starts a table, else
 * null. While an answer streams (opts.streaming) a delimiter row on its last line may still be
 * arriving: the header stays text until that row is whole, so a table never turns back to text.
 */
function tableAt(lines, i, opts) {
  if (i + 1 >= lines.length || lines[i].indexOf("|") === -1 || lines[i + 1].indexOf("|") === -1) return null;
  if (opts && opts.streaming && i + 1 === lines.length - 1) return null;
  var head = tableCells(lines[i]);
  var delim = tableCells(lines[i + 1]);
  if (head.length !== delim.length || head.length > MAX_TABLE_COLUMNS) return null;
  if (!delim.every(function (cell) { return TABLE_DELIM_CELL_RE.test(cell); })) return null;
  return delim.map(function (cell) {
    var left = cell.charAt(0) === ":";
    var right = cell.charAt(cell.length - 1) === ":";
    return left && right ? "center" : right ? "right" : left ? "left" : "";
  });
}

function isTableRow(line) {
  return line.indexOf("|") !== -1 && !/^\s*$/.test(line) && !isBlockStart(line);
}

/** Render the table starting at lines[i] into `container`; returns the index after it. */
function renderTable(lines, i, aligns, container, opts) {
  function row(line, tag) {
    var cells = tableCells(line);
    var tr = el("tr");
    aligns.forEach(function (align, c) {
      var cell = el(tag, { scope: tag === "th" ? "col" : null, "data-align": align || null });
      renderInline(cells[c] || "", cell, opts);
      tr.appendChild(cell);
    });
    return tr;
  }
  var table = el("table", null, [el("thead", null, [row(lines[i], "th")])]);
  var body = el("tbody");
  i += 2;
  while (i < lines.length && isTableRow(lines[i])) {
    // A streaming answer's last line may be a row still arriving: it is shown once whole.
    if (!(opts && opts.streaming && i === lines.length - 1)) body.appendChild(row(lines[i], "td"));
    i++;
  }
  if (body.firstChild) table.appendChild(body);
  // Its own scroller: a wide table scrolls sideways instead of widening the panel. An Arabic or
  // Hebrew table runs right to left (its first column on the right, the scroller starting there)
  // by tableDirection: most of its cells' directions, not its first letter's.
  container.appendChild(el("div", { className: "cb-table", role: "region", "aria-label": ((opts && opts.texts) || ENGLISH)("table"), tabindex: "0", dir: tableDirection(table) }, [table]));
  return i;
}

// A letter (bidi class L, R or AL; digits, marks and punctuation are weak or neutral), and the
// ranges of the right-to-left scripts' letters (Hebrew to Arabic Extended-A, their presentation
// forms, and the astral right-to-left blocks, U+10800-10FFF and U+1E800-1EFFF).
var LETTER_RE = (function () {
  try { return new RegExp("\\p{L}", "u"); } catch (e) { return /[A-Za-z\u00C0-\u024F\u0370-\u052F\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/; }
})();
var RTL_LETTER_RE = /^(?:[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]|[\uD802\uD803\uD83A\uD83B])/;

/** "rtl" or "ltr" from the first letter of `text` (as dir=auto and unicode-bidi: plaintext
 * read it), or null when it has none. */
function textDirection(text) {
  var letter = LETTER_RE.exec(text);
  return letter ? (RTL_LETTER_RE.test(letter[0]) ? "rtl" : "ltr") : null;
}

/**
 * The direction of a block of parts that each read their own way (unicode-bidi: plaintext):
 * a table's cells, a list's items, a quote's paragraphs. It runs the way most of its parts read
 * (each by its first letter); a tie goes to the first part with a letter (what dir=auto would
 * choose). By parts, not letters: one long Latin URL or code cell does not outvote a row of
 * Arabic cells, and an Arabic table, list or quote whose first part starts with a Latin name (an
 * API, a product) still runs right to left. No letter at all: "auto".
 */
function majorityDirection(parts) {
  var votes = { rtl: 0, ltr: 0 }, first = null;
  Array.prototype.forEach.call(parts, function (part) {
    var dir = textDirection(part.textContent);
    if (!dir) return;
    votes[dir] += 1;
    first = first || dir;
  });
  if (!first) return "auto";
  return votes.rtl === votes.ltr ? first : votes.rtl > votes.ltr ? "rtl" : "ltr";
}

function tableDirection(table) {
  return majorityDirection(table.querySelectorAll("th, td"));
}

/** A quote's parts for its direction: its paragraphs, headings, list items and table cells
 * (a nested quote's, as parts of its own). */
function quoteParts(quote) {
  return quote.querySelectorAll("p, .md-h, li, th, td");
}

/** opts for a part of the answer that has been received whole (no longer streaming). */
function settled(opts) {
  if (!opts || !opts.streaming) return opts;
  var copy = {};
  Object.keys(opts).forEach(function (name) { copy[name] = opts[name]; });
  copy.streaming = false;
  return copy;
}

/**
 * Render Markdown into `container` using DOM APIs only. Everything that is not a recognised
 * construct stays literal text, so "<script>" shows as the characters "<script>".
 * opts.citationRef(n, parent) may append a citation marker for "[n]" and return true;
 * opts.streaming: the source is an answer still arriving (its last line may be incomplete).
 * (depth: internal, the blockquote nesting.)
 */
function renderMarkdown(source, container, opts, depth) {
  depth = depth || 0;
  var lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
  var i = 0;
  while (i < lines.length) {
    var line = lines[i];
    var m;
    if (/^\s*$/.test(line)) {
      i++;
    } else if ((m = FENCE_RE.exec(line))) {
      var fence = m[1];
      var body = [];
      i++;
      while (i < lines.length && lines[i].trim() !== fence) body.push(lines[i++]);
      i++; // closing fence (or past the end while streaming)
      var code = el("code", { text: body.join("\n") });
      if (m[2]) code.setAttribute("data-lang", m[2]);
      container.appendChild(el("pre", null, [code]));
    } else if ((m = tableAt(lines, i, opts))) {
      i = renderTable(lines, i, m, container, opts);
    } else if ((m = HEADING_RE.exec(line))) {
      var heading = el("h" + Math.min(6, m[1].length + 2), { className: "md-h" });
      renderInline(m[2], heading, opts);
      container.appendChild(heading);
      i++;
    } else if (RULE_RE.test(line)) {
      container.appendChild(el("hr"));
      i++;
    } else if (UL_RE.test(line) || OL_RE.test(line)) {
      var ordered = !UL_RE.test(line);
      var itemRe = ordered ? OL_RE : UL_RE;
      // An Arabic or Hebrew list runs right to left, its bullets on the right (the stylesheets
      // pad lists with padding-inline-start): the way most of its items read (majorityDirection;
      // each item's text still reads its own way, unicode-bidi: plaintext).
      var list = el(ordered ? "ol" : "ul");
      if (ordered) {
        var start = parseInt(OL_RE.exec(line)[1], 10);
        if (start !== 1) list.setAttribute("start", String(start));
      }
      while (i < lines.length && (m = itemRe.exec(lines[i]))) {
        var itemLines = [ordered ? m[2] : m[1]];
        i++;
        // Indented continuation lines belong to the item.
        while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !itemRe.test(lines[i])) {
          itemLines.push(lines[i].trim());
          i++;
        }
        var li = el("li");
        renderLines(itemLines, li, opts);
        list.appendChild(li);
      }
      list.setAttribute("dir", majorityDirection(list.children));
      container.appendChild(list);
    } else if (QUOTE_RE.test(line)) {
      var quoted = [];
      while (i < lines.length && (m = QUOTE_RE.exec(lines[i]))) {
        quoted.push(m[1]);
        i++;
      }
      if (depth >= MAX_QUOTE_DEPTH) {
        // Too deep: the rest is shown as lines of text, its further ">" literal.
        var flat = el("p");
        renderLines(quoted, flat, opts);
        container.appendChild(flat);
      } else {
        var quote = el("blockquote");  // its bar on the side most of its paragraphs start
        renderMarkdown(quoted.join("\n"), quote, i < lines.length ? settled(opts) : opts, depth + 1);
        quote.setAttribute("dir", majorityDirection(quoteParts(quote)));
        container.appendChild(quote);
      }
    } else {
      var para = [line];
      i++;
      while (i < lines.length && !/^\s*$/.test(lines[i]) && !isBlockStart(lines[i]) && !tableAt(lines, i, opts)) {
        para.push(lines[i]);
        i++;
      }
      var p = el("p");
      renderLines(para, p, opts);
      container.appendChild(p);
    }
  }
  return container;
}

/**
 * Code blocks wider than their box scroll sideways: each becomes a named region that Tab reaches
 * (the arrow keys then scroll it), as tables are; a block that fits is no extra Tab stop. It
 * measures, so call it on a rendered answer that is laid out (again when its width changes).
 * t: the widget's texts (i18n.js; English by default), for the region's name.
 */
function markScrollers(container, t) {
  t = t || ENGLISH;
  Array.prototype.forEach.call(container.querySelectorAll("pre"), function (pre) {
    if (!pre.clientWidth) return;  // not laid out (a closed panel): marked when it is shown
    if (pre.scrollWidth > pre.clientWidth + 1) {
      var lang = pre.firstChild && pre.firstChild.getAttribute && pre.firstChild.getAttribute("data-lang");
      pre.setAttribute("tabindex", "0");
      pre.setAttribute("role", "region");
      pre.setAttribute("aria-label", lang ? t("codeLanguage", { language: lang }) : t("code"));
    } else {
      pre.removeAttribute("tabindex");
      pre.removeAttribute("role");
      pre.removeAttribute("aria-label");
    }
  });
}
