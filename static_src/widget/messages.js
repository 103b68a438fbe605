// ------------------------------------------------------------------ the transcript's messages

/** The messages in `log`: the greeting, the visitor's questions and the answers' views (t: the
 * widget's texts, i18n.js). */
function createTranscript(log, greeting, t) {
  var counter = 0;

  // A visitor who scrolls up to read keeps their place while the answer streams on below.
  var follow = true;
  log.addEventListener("scroll", function () {
    follow = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  });

  function scrollToEnd() {
    follow = true;
    log.scrollTop = log.scrollHeight;
  }

  function addGreeting() {
    log.appendChild(el("div", { className: "cb-msg cb-msg--assistant cb-msg--greeting" }, [
      el("div", { className: "cb-bubble", text: greeting }),
    ]));
  }

  function addUserMessage(text) {
    var node = el("div", { className: "cb-msg cb-msg--user" }, [
      el("span", { className: "cb-sr", text: t("youSaid") }),
      el("div", { className: "cb-bubble", text: text }),
    ]);
    log.appendChild(node);
    scrollToEnd();
    return node;
  }

  function addAssistantMessage() {
    counter += 1;
    var bubble = el("div", { className: "cb-bubble cb-md" });
    var cites = el("div", { className: "cb-citations", hidden: true });
    var status = el("div", { className: "cb-status", hidden: true });
    var node = el("div", { className: "cb-msg cb-msg--assistant" }, [
      el("span", { className: "cb-sr", text: t("assistant") }), bubble, cites, status,
    ]);
    log.appendChild(node);
    var view = {
      node: node,
      text: "",
      streaming: false,  // set while the answer arrives: a table's incomplete last row waits
      citations: [],
      frame: 0,
      render: function () {
        view.frame = 0;
        bubble.replaceChildren();
        try {
          renderMarkdown(view.text, bubble, {
            citationRef: citationRefFactory(function () { return view.citations; }, cites, t),
            streaming: view.streaming,
            texts: t,
          });
        } catch (e) {
          // Never leave the widget stuck mid-answer: show the text as it is.
          bubble.replaceChildren(document.createTextNode(view.text));
        }
        markScrollers(bubble, t);
        if (follow) scrollToEnd();
      },
      schedule: function () {
        if (!view.frame) view.frame = window.requestAnimationFrame(view.render);
      },
      setCitations: function (list) {
        view.citations = Array.isArray(list) ? list : [];
        renderCitations(view.citations, cites, "cb-cite-" + counter, t);
        view.schedule();
      },
      setStatus: function (message, kind) {
        status.textContent = message || "";
        status.hidden = !message;
        status.className = "cb-status" + (kind ? " cb-status--" + kind : "");
      },
    };
    var myCounter = counter;
    cites.id = "cb-cites-" + myCounter;
    return view;
  }

  /** onAnswer(view, stored): called for each stored answer once it is rendered. */
  function render(messages, onAnswer) {
    log.replaceChildren();
    addGreeting();
    messages.forEach(function (m) {
      if (m.role === "user") {
        addUserMessage(m.content);
      } else {
        var view = addAssistantMessage();
        view.text = m.content || "";
        view.setCitations(m.citations || []);
        view.render();
        if (m.note) view.setStatus(m.note, m.noteKind);
        if (!m.content && m.noteKind === "error") view.node.classList.add("cb-msg--error");  // as it was shown
        view.messageId = m.messageId || null;
        if (onAnswer) onAnswer(view, m);
      }
    });
    scrollToEnd();
  }

  return {
    scrollToEnd: scrollToEnd,
    following: function () { return follow; },
    addUserMessage: addUserMessage,
    addAssistantMessage: addAssistantMessage,
    render: render,
  };
}

/** An answer's bubble as read aloud (the widget's announcement, the playground's): the rendered
 * text (Markdown marks gone), spaced and capped. */
function spokenText(bubble) {
  bubble = bubble.cloneNode(true);
  // A space after each block: "chips.</p><ul><li>Browser" is not read as "chips.Browser".
  Array.prototype.forEach.call(bubble.querySelectorAll("p, li, pre, blockquote, .md-h, tr, th, td, br"), function (node) {
    node.parentNode.insertBefore(document.createTextNode(" "), node.nextSibling);
  });
  var text = bubble.textContent.replace(/\s+/g, " ").trim();
  return text.length > 2000 ? text.slice(0, 2000) + "\u2026" : text;
}
