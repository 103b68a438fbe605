/*
 * Playground: chat with a tenant's bots using an API key kept in sessionStorage.
 * Uses the widget's safe Markdown renderer and SSE client (window.ChatbotWidget from widget.js);
 * nothing from the API is ever inserted as HTML.
 */
(function () {
  "use strict";

  var kit = window.ChatbotWidget;
  var KEY_STORAGE = "chatbot:playground:key";
  var root = document.getElementById("playground");
  if (!root || !kit) return;
  var api = (root.getAttribute("data-api") || window.location.origin).replace(/\/+$/, "");

  function $(id) { return document.getElementById(id); }
  var ui = {
    keyForm: $("pg-key-form"), key: $("pg-key"), forget: $("pg-forget"), authError: $("pg-auth-error"),
    keyRow: $("pg-key-row"), connectedAs: $("pg-connected-as"),
    tenant: $("pg-tenant"), tenantField: $("pg-tenant-field"), app: $("pg-app"), bot: $("pg-bot"), scope: $("pg-scope"), newConv: $("pg-new"),
    conversations: $("pg-conversations"), more: $("pg-more"), convTitle: $("pg-conversation-title"),
    messages: $("pg-messages"), empty: $("pg-empty"), chatError: $("pg-chat-error"), form: $("pg-form"),
    input: $("pg-input"), send: $("pg-send"), stop: $("pg-stop"), timings: $("pg-timings"), chunks: $("pg-chunks"),
  };

  var state = {
    key: null,
    session: null,
    tenant: null,
    bots: [],
    conversationId: null,
    nextCursor: null,
    controller: null,
    selected: null,
  };

  var el = kit.el;  // the widget's DOM builder (text as text, never HTML)

  function readKey() {
    try { return window.sessionStorage.getItem(KEY_STORAGE); } catch (e) { return null; }
  }
  function writeKey(value) {
    try {
      if (value) window.sessionStorage.setItem(KEY_STORAGE, value);
      else window.sessionStorage.removeItem(KEY_STORAGE);
    } catch (e) { /* private mode: keep it in memory only */ }
  }

  function showError(node, message) {
    node.textContent = message || "";
    node.hidden = !message;
  }

  /** A 401 in the playground's words (the widget's sentence talks to a site's owner). */
  function unusableCredential() {
    return state.session ?
      "Your playground session token expired or is no longer valid; reload the page to get a fresh one." :
      "This key is invalid, revoked or expired; check it (or create one) and connect again.";
  }

  /** JSON request to /v1/; rejects with an Error whose message is a sentence for the user. */
  function request(method, path, body) {
    var headers = { Accept: "application/json", Authorization: "Bearer " + state.key };
    if (state.tenant) headers["X-Tenant"] = state.tenant;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(api + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
        if (!response.ok) {
          var message = response.status === 401 ? unusableCredential() :
            kit.describeError(response.status, data, response.headers.get("Retry-After"));
          var err = new Error(message);
          err.status = response.status;
          throw err;
        }
        return data;
      });
    }, function () {
      throw new Error("Could not reach the API. Check that the server is running.");
    });
  }

  function fmtMs(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return "—";
    return ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : Math.round(ms) + " ms";
  }
  function fmtScore(score) {
    return typeof score === "number" ? score.toFixed(3) : "—";
  }
  function fmtDate(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? "" : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  // ---------------------------------------------------------------- connect

  function connect(key, viaSession) {
    state.key = key;
    showError(ui.authError, "");
    ui.keyForm.setAttribute("aria-busy", "true");
    return Promise.all([request("GET", "/v1/bots?limit=100"), request("GET", "/v1/scopes?limit=100")])
      .then(function (results) {
        if (!viaSession) writeKey(key);
        state.bots = (results[0] && results[0].data) || [];
        fillSelect(ui.bot, state.bots, null);
        fillSelect(ui.scope, (results[1] && results[1].data) || [], "Bot's default scope");
        ui.key.value = "";
        ui.keyRow.hidden = true;
        if (viaSession) {
          var until = new Date(state.session.expires_at * 1000);
          ui.connectedAs.replaceChildren(el("span", null, [
            "Signed in as ", el("strong", { text: state.session.user }),
            " (staff session; its token is valid until " +
              until.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + ").",
          ]));
        } else {
          ui.connectedAs.replaceChildren(
            el("span", null, ["Connected with key ", el("code", { text: key.slice(0, 10) + "\u2026" }), " (kept in this tab only)."])
          );
          ui.connectedAs.appendChild(ui.forget);
          ui.forget.hidden = false;
        }
        ui.connectedAs.hidden = false;
        ui.app.hidden = false;
        root.classList.add("pg-connected");
        if (!state.bots.length) {
          showError(ui.chatError, "This tenant has no bots yet (or this key may not use any). Create one in the admin or via POST /v1/bots.");
        }
        newConversation();
        loadConversations(false);
      })
      .catch(function (err) {
        state.key = null;
        if (!viaSession) writeKey(null);
        state.session = null;
        state.tenant = null;
        var message = err.message;
        if (err.status === 403) message += " The playground needs a key with the read and chat permissions.";
        showError(ui.authError, message);
      })
      .then(function () { ui.keyForm.removeAttribute("aria-busy"); });
  }

  function fillSelect(select, items, emptyLabel) {
    select.replaceChildren();
    if (emptyLabel !== null) select.appendChild(el("option", { value: "", text: emptyLabel }));
    items.forEach(function (item) {
      select.appendChild(el("option", { value: item.slug || item.id, text: (item.name || item.slug) + " (" + item.slug + ")" }));
    });
  }

  function currentBot() {
    var slug = ui.bot.value;
    return state.bots.filter(function (b) { return b.slug === slug; })[0] || null;
  }

  // ---------------------------------------------------------------- conversations

  function loadConversations(append) {
    var path = "/v1/conversations?limit=20" + (append && state.nextCursor ? "&cursor=" + encodeURIComponent(state.nextCursor) : "");
    return request("GET", path).then(function (page) {
      if (!append) ui.conversations.replaceChildren();
      state.nextCursor = page.next || null;
      ui.more.hidden = !state.nextCursor;
      var rows = page.data || [];
      if (!rows.length && !append) {
        ui.conversations.appendChild(el("li", { className: "pg-muted", text: "No conversations yet." }));
      }
      rows.forEach(function (c) {
        var botLabel = c.bot_slug || (typeof c.bot === "object" && c.bot ? (c.bot.slug || c.bot.name) : botSlug(c.bot));
        var button = el("button", { type: "button", className: "pg-conv", "data-id": c.id }, [
          el("span", { className: "pg-conv-title", text: c.title || "Untitled conversation" }),
          el("span", { className: "pg-conv-meta", text: [botLabel, (c.message_count || 0) + " messages", fmtDate(c.updated_at || c.created_at)].filter(Boolean).join(" · ") }),
        ]);
        if (c.id === state.conversationId) button.setAttribute("aria-current", "true");
        button.addEventListener("click", function () { openConversation(c.id); });
        ui.conversations.appendChild(el("li", null, [button]));
      });
    }).catch(function (err) {
      ui.conversations.replaceChildren(el("li", { className: "pg-error", text: err.message }));
    });
  }

  function botSlug(id) {
    var bot = state.bots.filter(function (b) { return b.id === id || b.slug === id; })[0];
    return bot ? bot.slug : "";
  }

  function markCurrentConversation() {
    Array.prototype.forEach.call(ui.conversations.querySelectorAll(".pg-conv"), function (b) {
      if (b.getAttribute("data-id") === state.conversationId) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    });
  }

  function openConversation(id) {
    abortStream();
    showError(ui.chatError, "");
    return request("GET", "/v1/conversations/" + encodeURIComponent(id)).then(function (conv) {
      state.conversationId = conv.id;
      ui.convTitle.textContent = conv.title || "Conversation";
      var slug = conv.bot ? (typeof conv.bot === "object" ? conv.bot.slug : botSlug(conv.bot)) : null;
      if (slug) ui.bot.value = slug;
      ui.messages.replaceChildren();
      (conv.messages || []).forEach(function (m) {
        if (m.role === "user") {
          addUser(m.content);
        } else {
          var view = addAssistant();
          view.text = m.content || "";
          view.setCitations(m.citations || []);
          view.render();
          view.setMessageId(m.id);
          view.setFeedback(feedbackRating(m.feedback));
          view.setMeta({ latency: m.latency_ms, usage: m.usage, finish: m.finish_reason, model: m.model });
        }
      });
      markCurrentConversation();
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }).catch(function (err) { showError(ui.chatError, err.message); });
  }

  function feedbackRating(feedback) {
    if (!feedback) return null;
    if (typeof feedback === "string") return feedback;
    return feedback.rating || null;
  }

  function newConversation() {
    abortStream();
    state.conversationId = null;
    ui.convTitle.textContent = "New conversation";
    ui.messages.replaceChildren(ui.empty);
    ui.empty.hidden = false;
    showError(ui.chatError, "");
    markCurrentConversation();
    renderInspector(null);
    ui.input.focus();
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
    var status = el("span", { className: "pg-status", role: "status" });
    var node = el("div", { className: "pg-msg pg-msg-assistant", tabindex: "-1" }, [
      el("div", { className: "pg-answer" }, [bubble, el("div", { className: "pg-actions" }, [up, down, meta, status])]),
      citesBox,
    ]);
    ui.messages.appendChild(node);
    var view = {
      node: node,
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
        up.disabled = down.disabled = !view.messageId;
      },
      setFeedback: function (rating) {
        up.setAttribute("aria-pressed", rating === "up" ? "true" : "false");
        down.setAttribute("aria-pressed", rating === "down" ? "true" : "false");
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
    function rate(rating) {
      if (!view.messageId) return;
      view.setStatus("Saving feedback\u2026");
      request("POST", "/v1/messages/" + encodeURIComponent(view.messageId) + "/feedback", { rating: rating })
        .then(function () {
          view.setFeedback(rating);
          view.setStatus("Feedback saved.", "ok");
        })
        .catch(function (err) { view.setStatus(err.message, "error"); });
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

  // ---------------------------------------------------------------- chat

  function setBusy(busy) {
    ui.send.hidden = busy;
    ui.stop.hidden = !busy;
    ui.bot.disabled = ui.scope.disabled = busy;
  }

  function abortStream() {
    if (state.controller) state.controller.abort();
  }

  function send(text) {
    var bot = currentBot();
    if (!bot) {
      showError(ui.chatError, "Pick a bot first.");
      return;
    }
    showError(ui.chatError, "");
    addUser(text);
    var view = addAssistant();
    select(view);
    view.node.setAttribute("aria-busy", "true");
    view.node.classList.add("pg-streaming");
    view.setStatus("Thinking\u2026", "pending");
    setBusy(true);
    var scope = ui.scope.value || undefined;
    var started = performance.now();

    var retrieveBody = { bot: bot.slug, query: text };
    if (scope) retrieveBody.scope = scope;
    request("POST", "/v1/retrieve", retrieveBody).then(function (res) {
      view.timings.retrieveClient = performance.now() - started;
      view.timings.retrieveServer = res && typeof res.latency_ms === "number" ? res.latency_ms : null;
      view.retrieval = (res && res.data) || [];
      if (state.selected === view) renderInspector(view);
    }, function (err) {
      view.retrievalError = "Retrieval panel: " + err.message;
      if (state.selected === view) renderInspector(view);
    });

    state.controller = new AbortController();
    var streamError = null;
    kit.streamChat({
      api: api,
      key: state.key,
      bot: bot.slug,
      message: text,
      conversationId: state.conversationId,
      scope: scope,
      user: "playground",
      headers: state.tenant ? { "X-Tenant": state.tenant } : null,
      signal: state.controller.signal,
    }, {
      failed: false,
      onEvent: function (name, data) {
        if (name === "start") {
          var isNew = state.conversationId !== data.conversation_id;
          state.conversationId = data.conversation_id;
          view.setMessageId(null);
          view.pendingId = data.message_id;
          if (isNew) ui.convTitle.textContent = text.length > 60 ? text.slice(0, 60) + "\u2026" : text;
        } else if (name === "citations") {
          view.setCitations(data.citations);
        } else if (name === "delta") {
          if (view.timings.firstToken === undefined) view.timings.firstToken = performance.now() - started;
          view.text += data.text || "";
          view.setStatus("");
          view.schedule();
        } else if (name === "end") {
          view.timings.server = data.latency_ms;
          view.timings.tokens = data.usage && data.usage.total_tokens;
          view.setMeta({ latency: data.latency_ms, usage: data.usage, finish: data.finish_reason });
        } else if (name === "error") {
          this.failed = true;
          streamError = (data.error && data.error.message) || "The answer failed.";
        }
      },
    }).then(function () {
      done(streamError ? "error" : null, streamError);
    }, function (err) {
      done(err.kind === "aborted" ? "aborted" : "error", err.status === 401 ? unusableCredential() : err.message);
    });

    function done(kind, message) {
      state.controller = null;
      view.timings.total = performance.now() - started;
      if (view.frame) window.cancelAnimationFrame(view.frame);
      view.render();
      view.node.removeAttribute("aria-busy");
      view.node.classList.remove("pg-streaming");
      // The message exists server-side once the stream started, whatever happened after.
      view.setMessageId(view.pendingId);
      if (kind === "error") {
        view.setStatus(message, "error");
        if (!view.text) showError(ui.chatError, message);
      } else if (kind === "aborted") {
        view.setStatus("Stopped.");
      } else {
        view.setStatus("");
      }
      if (state.selected === view) renderInspector(view);
      setBusy(false);
      loadConversations(false);
    }
  }

  // ---------------------------------------------------------------- events

  ui.keyForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var key = ui.key.value.trim();
    if (key) connect(key);
  });
  ui.forget.addEventListener("click", function () {
    abortStream();
    writeKey(null);
    state.key = null;
    ui.app.hidden = true;
    ui.forget.hidden = true;
    ui.connectedAs.hidden = true;
    ui.keyRow.hidden = false;
    root.classList.remove("pg-connected");
    ui.key.placeholder = "cb_\u2026";
    ui.key.focus();
  });
  ui.newConv.addEventListener("click", newConversation);
  ui.more.addEventListener("click", function () { loadConversations(true); });
  ui.bot.addEventListener("change", newConversation);
  ui.stop.addEventListener("click", abortStream);
  ui.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = ui.input.value.trim();
    if (!text || state.controller) return;
    ui.input.value = "";
    send(text);
  });
  ui.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });

  ui.tenant.addEventListener("change", function () {
    state.tenant = ui.tenant.value;
    connect(state.key, true);
  });

  var sessionNode = document.getElementById("pg-session");
  var session = null;
  try { session = sessionNode ? JSON.parse(sessionNode.textContent) : null; } catch (e) { session = null; }
  var saved = readKey();
  if (session && session.token && session.tenants && session.tenants.length) {
    // A verified staff session (admin login with OTP): no key needed.
    state.session = session;
    state.tenant = session.tenants[0].slug;
    ui.tenant.replaceChildren();
    session.tenants.forEach(function (t) {
      ui.tenant.appendChild(el("option", { value: t.slug, text: t.name + " (" + t.role + ")" }));
    });
    ui.tenantField.hidden = session.tenants.length < 2;
    connect(session.token, true);
  } else if (saved) {
    connect(saved);
  } else {
    ui.key.focus();
  }
})();
