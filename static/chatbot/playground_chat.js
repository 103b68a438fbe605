/*
 * Playground, chat: sends a question, streams the answer into its view (the widget's SSE client)
 * and asks /v1/retrieve for the inspector's chunks at the same time. Loaded before playground.js,
 * which hands it the page's state and the message views once (ChatbotPlayground.chat).
 */
(function () {
  "use strict";

  // The page's, from playground.js and playground_messages.js.
  var kit, api, ui, state, request, showError, announce, unusableCredential, currentBot, loadConversations;
  var recheckChat, credentialRefused;
  var addUser, addAssistant, select, renderInspector;

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
      // A conversation is its end user's (another's reads as missing): a follow-up to one opened
      // from the list names that conversation's user (none for ""); a new one is "playground"'s.
      user: state.conversationUser === null ? "playground" : state.conversationUser,
      headers: state.tenant ? { "X-Tenant": state.tenant } : null,
      signal: state.controller.signal,
    }, {
      failed: false,
      onEvent: function (name, data) {
        if (name === "start") {
          var isNew = state.conversationId !== data.conversation_id;
          state.conversationId = data.conversation_id;
          if (isNew) state.conversationUser = "playground";
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
      if (kit.transientError(err)) {
        // The service briefly down (a 502/503/504, or the way there failing while the
        // credential is fine): no refusal. The question goes back into the (still enabled)
        // box, unless something else was typed meanwhile, to be sent again with Enter.
        var kept = !ui.input.value.trim();
        if (kept) ui.input.value = text;
        done("error", err.message + (kept ? " Your question is back in the message box." : ""));
        return;
      }
      done(err.kind === "aborted" ? "aborted" : "error", err.status === 401 ? unusableCredential() : err.message);
      // Refused: if it is the credential that may not chat (its permission taken away since it
      // connected), the page says so and stops offering the question box.
      if (err.status === 403) recheckChat();
      else if (err.status === 401) credentialRefused();  // revoked or expired: nothing works now
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
      var spoken = view.text ? "Assistant: " + kit.spokenText(view.bubble) : "";
      if (kind === "error") {
        view.setStatus(message, "error");
        if (!view.text) showError(ui.chatError, message);  // (an alert: said as it shows)
        else announce(spoken + " " + message);
      } else if (kind === "aborted") {
        view.setStatus("Stopped.");
        announce("Stopped.");
      } else {
        view.setStatus("");
        announce(spoken);  // once, the whole answer (the conversation is no live region)
      }
      if (state.selected === view) renderInspector(view);
      setBusy(false);
      loadConversations(false);
    }
  }

  (window.ChatbotPlayground = window.ChatbotPlayground || {}).chat = function (page, views) {
    kit = page.kit;
    api = page.api;
    ui = page.ui;
    state = page.state;
    request = page.request;
    showError = page.showError;
    announce = page.announce;
    recheckChat = page.recheckChat;
    credentialRefused = page.credentialRefused;
    unusableCredential = page.unusableCredential;
    currentBot = page.currentBot;
    loadConversations = page.loadConversations;
    addUser = views.addUser;
    addAssistant = views.addAssistant;
    select = views.select;
    renderInspector = views.renderInspector;
    return { send: send, abortStream: abortStream };
  };
})();
