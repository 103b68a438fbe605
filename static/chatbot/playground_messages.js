/*
 * Playground, message views and inspector: a question's bubble, an answer's view (Markdown
 * rendered by the widget, citations, feedback buttons, meta line) and the panel of timings and
 * retrieved chunks of the selected answer. Loaded before playground.js, which hands it the page's
 * state once (ChatbotPlayground.messages); nothing from the API is ever inserted as HTML.
 */
(function () {
  "use strict";

  var kit, ui, state, request, el, announce, page;  // the page's, from playground.js

  function fmtMs(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return "—";
    return ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : Math.round(ms) + " ms";
  }
  function fmtScore(score) {
    return typeof score === "number" ? score.toFixed(3) : "—";
  }

  // ---------------------------------------------------------------- messages

  function addUser(text) {
    ui.empty.hidden = true;
    var node = el("div", { className: "pg-msg pg-msg-user" }, [el("div", { className: "pg-bubble", text: text })]);
    ui.messages.appendChild(node);
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  var answerCount = 0;
  var THUMB_UP = "M7 10v11H4a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1h3zm0 0l4-8a3 3 0 0 1 3 3v4h5.5a2 2 0 0 1 2 2.3l-1.3 8A2 2 0 0 1 18.2 21H7";
  var THUMB_DOWN = "M17 14V3h3a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1h-3zm0 0l-4 8a3 3 0 0 1-3-3v-4H4.5a2 2 0 0 1-2-2.3l1.3-8A2 2 0 0 1 5.8 3H17";

  function thumb(d) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  }

  function addAssistant() {
    ui.empty.hidden = true;
    answerCount += 1;
    var bubble = el("div", { className: "pg-bubble pg-md" });
    var cites = el("ol", { className: "pg-citations", "aria-label": "Citations" });
    var citesBox = el("aside", { className: "pg-cites-box" }, [el("h3", { text: "Citations" }), cites]);
    var up = el("button", { type: "button", className: "pg-fb pg-fb-up", "aria-pressed": "false", "aria-label": "Good answer", title: "Good answer", disabled: true }, [thumb(THUMB_UP)]);
    var down = el("button", { type: "button", className: "pg-fb pg-fb-down", "aria-pressed": "false", "aria-label": "Bad answer", title: "Bad answer", disabled: true }, [thumb(THUMB_DOWN)]);
    var meta = el("span", { className: "pg-meta" });
    var status = el("span", { className: "pg-status" });  // (what it says is announced)
    var node = el("div", { className: "pg-msg pg-msg-assistant", tabindex: "-1" }, [
      el("div", { className: "pg-answer" }, [bubble, el("div", { className: "pg-actions" }, [up, down, meta, status])]),
      citesBox,
    ]);
    ui.messages.appendChild(node);
    var view = {
      node: node,
      bubble: bubble,
      text: "",
      citations: [],
      messageId: null,
      retrieval: null,
      timings: {},
      frame: 0,
      render: function () {
        view.frame = 0;
        bubble.replaceChildren();
        kit.renderMarkdown(view.text, bubble, { citationRef: citeRef });
        kit.markScrollers(bubble);  // a wide code block: a named region Tab reaches
        followAnswer(node);
      },
      schedule: function () { if (!view.frame) view.frame = window.requestAnimationFrame(view.render); },
      setCitations: function (list) {
        view.citations = Array.isArray(list) ? list : [];
        cites.replaceChildren();
        citesBox.hidden = !view.citations.length;
        view.citations.forEach(function (c, i) {
          var n = c.index || i + 1;
          var head = el("div", { className: "pg-cite-head" }, [
            el("span", { className: "pg-cite-n", text: String(n) }),
            el("span", { className: "pg-cite-title", text: c.document_title || "Untitled document" }),
            el("span", { className: "pg-score", title: "Retrieval score", text: fmtScore(c.score) }),
          ]);
          var item = el("li", { className: "pg-cite", id: "pg-cite-" + answerId + "-" + n }, [head]);
          if (c.snippet) item.appendChild(el("p", { className: "pg-cite-snippet", text: c.snippet }));
          var href = kit.safeHref(c.source);
          if (href) item.appendChild(el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow", className: "pg-cite-source", text: c.source }));
          cites.appendChild(item);
        });
        view.schedule();
      },
      setMessageId: function (id) {
        view.messageId = id || null;
        up.disabled = down.disabled = !view.messageId || !state.canChat;  // (feedback is chat's)
      },
      rating: null,
      setFeedback: function (rating) {
        view.rating = rating || null;
        up.setAttribute("aria-pressed", rating === "up" ? "true" : "false");
        down.setAttribute("aria-pressed", rating === "down" ? "true" : "false");
        up.title = "Good answer" + (rating === "up" ? " (click again to remove)" : "");
        down.title = "Bad answer" + (rating === "down" ? " (click again to remove)" : "");
      },
      setMeta: function (m) {
        var parts = [];
        if (m.latency !== null && m.latency !== undefined) parts.push(fmtMs(m.latency));
        if (m.usage && m.usage.total_tokens) parts.push(m.usage.total_tokens + " tokens");
        if (m.finish && m.finish !== "stop") parts.push(m.finish);
        if (m.model) parts.push(m.model);
        meta.textContent = parts.join(" · ");
      },
      setStatus: function (text, kind) {
        status.textContent = text || "";
        status.className = "pg-status" + (kind ? " pg-status-" + kind : "");
      },
    };
    var answerId = answerCount;
    function citeRef(n, parent) {
      if (!view.citations.some(function (c, i) { return (c.index || i + 1) === n; })) return false;
      var ref = el("button", { type: "button", className: "pg-ref", "aria-label": "Citation " + n, text: String(n) });
      ref.addEventListener("click", function (event) {
        event.stopPropagation();
        var target = document.getElementById("pg-cite-" + answerId + "-" + n);
        if (target) {
          target.classList.remove("pg-flash");
          void target.offsetWidth;
          target.classList.add("pg-flash");
          target.scrollIntoView({ block: "nearest" });
        }
      });
      parent.appendChild(el("sup", null, [ref]));
      return true;
    }
    /** The other thumb rates; the pressed one again withdraws the rating (DELETE, a toggle). */
    function rate(rating) {
      if (!view.messageId || view.saving) return;
      var clear = rating === view.rating;
      var path = "/v1/messages/" + encodeURIComponent(view.messageId) + "/feedback";
      view.saving = true;
      view.setStatus(clear ? "Removing feedback\u2026" : "Saving feedback\u2026");
      request(clear ? "DELETE" : "POST", path, clear ? undefined : { rating: rating })
        .then(function () {
          var said = clear ? "Feedback removed." : "Feedback saved.";
          view.setFeedback(clear ? null : rating);
          view.setStatus(said, "ok");
          announce(said);
        })
        .catch(function (err) {
          var message = "Feedback not saved: " + err.message;
          view.setStatus(message, "error");
          announce(message);
          if (err.status === 401 || err.status === 403) refused(err.status);
        })
        .then(function () { view.saving = false; });
    }
    /** A rating refused for the credential itself, as a chat is (playground_chat.js): the
     * thumbs on screen are disabled (feedback is chat's), the page says why (a 401: nothing
     * works any more; a 403: whether the credential may still chat is checked again). */
    function refused(status) {
      var focused = document.activeElement === up || document.activeElement === down;
      Array.prototype.forEach.call(ui.messages.querySelectorAll(".pg-fb"), function (b) { b.disabled = true; });
      if (focused) node.focus();  // (its button is disabled: not onto the page's body)
      if (status === 401) page.credentialRefused();
      else page.recheckChat();
    }
    up.addEventListener("click", function (e) { e.stopPropagation(); rate("up"); });
    down.addEventListener("click", function (e) { e.stopPropagation(); rate("down"); });
    node.addEventListener("click", function () { select(view); });
    return view;
  }

  /** Keep the newest exchange in view: follow the answer down, but never scroll its question
   * off the top (long answers are then read from their start). */
  function followAnswer(node) {
    var question = node.previousElementSibling;
    var bottom = ui.messages.scrollHeight - ui.messages.clientHeight;
    var pin = question ? question.offsetTop - 12 : bottom;
    ui.messages.scrollTop = Math.max(0, Math.min(bottom, pin));
  }

  function select(view) {
    Array.prototype.forEach.call(ui.messages.querySelectorAll(".pg-selected"), function (n) { n.classList.remove("pg-selected"); });
    if (view) view.node.classList.add("pg-selected");
    state.selected = view;
    renderInspector(view);
  }

  // ---------------------------------------------------------------- inspector

  function renderInspector(view) {
    ui.timings.replaceChildren();
    ui.chunks.replaceChildren();
    if (!view || (!view.retrieval && !view.timings.total)) {
      ui.timings.appendChild(el("dt", { text: "\u2014" }));
      ui.timings.appendChild(el("dd", { text: view ? "No timings recorded for this answer (loaded from history)." : "Send a message to see timings." }));
      return;
    }
    var t = view.timings;
    [
      ["Retrieval (client)", t.retrieveClient],
      ["Retrieval (server)", t.retrieveServer],
      ["First token", t.firstToken],
      ["Full answer (client)", t.total],
      ["Answer latency (server)", t.server],
    ].filter(function (row) { return typeof row[1] === "number"; }).map(function (row) {
      return [row[0], fmtMs(row[1])];
    }).concat(t.tokens ? [["Tokens", String(t.tokens)]] : []).forEach(function (row) {
      ui.timings.appendChild(el("dt", { text: row[0] }));
      ui.timings.appendChild(el("dd", { text: row[1] }));
    });
    if (view.retrievalError) {
      ui.chunks.appendChild(el("li", { className: "pg-error", text: view.retrievalError }));
      return;
    }
    var rows = view.retrieval || [];
    if (!rows.length) ui.chunks.appendChild(el("li", { className: "pg-muted", text: "No chunk matched." }));
    rows.forEach(function (chunk) {
      ui.chunks.appendChild(el("li", { className: "pg-chunk" }, [
        el("div", { className: "pg-cite-head" }, [
          el("span", { className: "pg-cite-title", text: chunk.document_title || "Untitled document" }),
          el("span", { className: "pg-score", text: fmtScore(chunk.score) }),
        ]),
        el("p", { className: "pg-chunk-text", text: chunk.text || "" }),
      ]));
    });
  }

  (window.ChatbotPlayground = window.ChatbotPlayground || {}).messages = function (pageOf) {
    page = pageOf;
    kit = page.kit;
    ui = page.ui;
    state = page.state;
    request = page.request;
    announce = page.announce;
    el = kit.el;
    return { addUser: addUser, addAssistant: addAssistant, select: select, renderInspector: renderInspector };
  };
})();
