// ------------------------------------------------------------------ a refused key

/**
 * The message box once the server refused the widget's key itself (401, 403, a CORS refusal,
 * an error event saying so, or a rating refused the same way): another question could only be
 * refused again, so the input, Send and the thumbs are disabled and the notice (an alert) says
 * why, with a Try again button that enables them for one more attempt (the site's owner may
 * have fixed the key since); an answer that then comes keeps them enabled. options: root (the
 * shadow root), input, sendButton, notice, feedback (createFeedback's) and texts (i18n.js).
 */
function createRefusal(options) {
  var t = options.texts || ENGLISH;
  var input = options.input, sendButton = options.sendButton, notice = options.notice;
  var refused = false;
  var placeholder = input.placeholder;
  var again = el("button", { type: "button", className: "cb-notice-action", text: t("tryAgain") });
  again.addEventListener("click", function () {
    lift();
    input.focus();
  });

  function refuse() {
    options.feedback.allow(false);
    if (refused) return;
    // The visitor was in the message box (sent with Enter or Send) or on a thumb: the focus
    // goes to the notice's button, not to the host page's body as those are disabled under it.
    var focused = options.root.activeElement;
    var typing = focused === input || focused === sendButton ||
      (!!focused && focused.classList.contains("cb-rate"));  // (a refused rating's, now disabled)
    refused = true;
    input.disabled = sendButton.disabled = true;
    input.placeholder = t("refusedPlaceholder");
    input.setAttribute("aria-describedby", "cb-notice");
    notice.replaceChildren(el("span", { text: t("refusedNotice") }), " ", again);
    notice.hidden = false;
    if (typing && input.getClientRects().length) again.focus();
  }

  /** Enabled again (Try again, or an answer came after all). */
  function lift() {
    if (!refused) return;
    refused = false;
    input.disabled = sendButton.disabled = false;
    input.placeholder = placeholder;
    input.removeAttribute("aria-describedby");
    notice.replaceChildren();
    notice.hidden = true;
  }

  return { refuse: refuse, lift: lift, refused: function () { return refused; } };
}
