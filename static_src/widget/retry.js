// ------------------------------------------------------------------ retrying a failed answer

/**
 * The Retry button under the last answer when it failed (or was interrupted by a reload): it
 * sends the same question again in the same conversation, in the failed answer's place (the
 * question's bubble stays as it is). options: root (the shadow root), input, busy(), messages()
 * (the stored transcript), announce(text) and send(text, attempt) (the question again, its
 * bubble kept; attempt: the automatic retries made so far) and texts (i18n.js).
 */
function createRetry(options) {
  var t = options.texts || ENGLISH;
  var current = null;  // on the last failed answer, while it is the last one
  var timer = 0;  // an automatic retry waiting

  /**
   * view: the failed answer's view (view.stored: its entry in the stored transcript).
   * auto: { seconds, attempt } to press Retry by itself after that many seconds (a transient
   * failure, a bounded number of times: see AUTO_RETRIES), or null. The visitor may press it
   * sooner; a question of their own meanwhile (drop) cancels it.
   */
  function offer(view, text, auto) {
    var button = el("button", { type: "button", className: "cb-retry", title: t("retryTitle") }, [
      icon(ICONS.retry, 16), t("retry"),
    ]);
    function again(attempt) {
      if (options.busy()) return;
      var keyboard = options.root.activeElement === button;
      var messages = options.messages();
      if (view.stored && messages[messages.length - 1] === view.stored) messages.pop();
      view.node.remove();
      options.announce(t("retrying"));
      options.send(text, attempt);
      if (keyboard) options.input.focus();  // the button is gone: not onto the host page's body
    }
    button.addEventListener("click", function () { again(auto ? auto.attempt : 0); });
    view.node.appendChild(button);
    current = button;
    if (auto) {
      timer = window.setTimeout(function () {
        timer = 0;
        if (current === button) again(auto.attempt);
      }, auto.seconds * 1000);
    }
  }

  function drop() {
    window.clearTimeout(timer);
    timer = 0;
    if (current) current.remove();
    current = null;
  }

  /** After the stored transcript is rendered again (a reload): the last answer's Retry, as it had
   * when it failed. last: { view, stored } of the last answer rendered, or null. */
  function restore(last) {
    current = null;  // (the transcript's nodes were replaced)
    var messages = options.messages();
    var n = messages.length;
    if (!last || n < 2 || messages[n - 1] !== last.stored || messages[n - 2].role !== "user") return;
    // (a refusal: none; an interruption stored before it was flagged reads as its English note)
    if (!last.stored.retry && !last.stored.interrupted && last.stored.note !== TEXTS.en.interrupted) return;
    last.view.stored = last.stored;
    offer(last.view, messages[n - 2].content);
  }

  return { offer: offer, drop: drop, restore: restore };
}
