// ------------------------------------------------------------------ rating answers

// label and saved: keys of the widget's texts (i18n.js).
var RATINGS = {
  up: { label: "helpful", saved: "savedHelpful", icon: "thumbUp" },
  down: { label: "notHelpful", saved: "savedNotHelpful", icon: "thumbDown" },
};

/** The script tag's data-feedback: "off" (or "false", any case) shows no rating buttons. */
function feedbackOn(value) {
  var v = String(value || "").trim().toLowerCase();
  return v !== "off" && v !== "false";
}

/**
 * Thumbs up and down under finished answers. options: api, key, user (the visitor's id, as
 * the chat sends it: the server rates only that visitor's answers), announce(text),
 * save() (after `stored.rating` changed: the rating is kept with the stored transcript) and
 * refused() (a rating was refused for the key itself: 401, 403 or the browser's CORS refusal)
 * and texts (i18n.js).
 */
function createFeedback(options) {
  var t = options.texts || ENGLISH;
  var allowed = true;
  var shown = [];  // the rating buttons attached so far

  /** The buttons under `view` (its messageId set), showing and saving `stored.rating`. */
  function attach(view, stored) {
    if (!view.messageId) return;
    var saving = false;
    var note = el("span", { className: "cb-feedback-note", hidden: true });
    var buttons = {};
    var group = el("div", { className: "cb-feedback", role: "group", "aria-label": t("rateAnswer") },
      Object.keys(RATINGS).map(function (rating) {
        var button = buttons[rating] = el("button", {
          type: "button",
          className: "cb-rate cb-rate--" + rating,
          "aria-label": t(RATINGS[rating].label),
          title: t(RATINGS[rating].label),
          "aria-pressed": "false",
        }, [icon(ICONS[RATINGS[rating].icon], 16)]);
        button.addEventListener("click", function () { rate(rating); });
        button.disabled = !allowed;
        shown.push(button);
        return button;
      }).concat([note]));
    view.node.appendChild(group);
    show(stored.rating);

    function show(rating) {
      Object.keys(buttons).forEach(function (name) {
        buttons[name].setAttribute("aria-pressed", name === rating ? "true" : "false");
        var label = t(RATINGS[name].label);
        buttons[name].title = name === rating ? t("pressedTitle", { label: label }) : label;
      });
    }

    function say(text, kind) {
      note.textContent = text;
      note.hidden = !text;
      note.className = "cb-feedback-note" + (kind ? " cb-feedback-note--" + kind : "");
      if (text) options.announce(text);
    }

    /** The other thumb rates; the pressed one again withdraws the rating (a toggle). */
    function rate(rating) {
      // One request at a time (aria-disabled rather than disabled: the focus stays on the button).
      if (saving) return;
      var clear = rating === stored.rating;
      saving = true;
      group.setAttribute("aria-busy", "true");
      Object.keys(buttons).forEach(function (name) { buttons[name].setAttribute("aria-disabled", "true"); });
      say(clear ? t("removing") : t("saving"));
      sendRating(view.messageId, clear ? null : rating).then(function () {
        stored.rating = clear ? null : rating;
        options.save();
        show(stored.rating);
        say(clear ? t("removed") : t(RATINGS[rating].saved), "ok");
      }, function (err) {
        say(t("notSaved", { reason: err.message }), "error");
        if (keyRefused(err)) options.refused();  // (disables these buttons too)
      }).then(function () {
        saving = false;
        group.removeAttribute("aria-busy");
        Object.keys(buttons).forEach(function (name) { buttons[name].removeAttribute("aria-disabled"); });
      });
    }
  }

  /** POST /v1/messages/{id}/feedback, or DELETE it (rating null: the visitor withdrew it; the
   * visitor's id then goes in the query string); rejects with a ChatError whose message is for
   * the visitor. */
  function sendRating(messageId, rating) {
    var url = options.api + "/v1/messages/" + encodeURIComponent(messageId) + "/feedback";
    var headers = { Authorization: "Bearer " + options.key };
    var body = undefined;
    if (rating) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.user ? { rating: rating, user: options.user } : { rating: rating });
    } else if (options.user) {
      url += "?user=" + encodeURIComponent(options.user);
    }
    return fetch(url, {
      method: rating ? "POST" : "DELETE",
      headers: headers,
      body: body,
      credentials: "omit",
      mode: "cors",
      cache: "no-store",
    }).then(function (response) {
      if (response.ok) return null;
      return response.text().then(function (text) {
        var parsed = null;
        try { parsed = JSON.parse(text); } catch (e) { /* not JSON */ }
        throw new ChatError("http", response.status === 404 && parsed && parsed.error
          ? t("cannotRate")  // its conversation was deleted, say
          : describeError(response.status, parsed, response.headers.get("Retry-After"), options.api, t),
          response.status);
      });
    }, function () {
      // (as the chat's: a refused origin or revoked key reads as a network failure here)
      var probe = { Authorization: headers.Authorization, "Content-Type": "application/json" };
      return explainFetchFailure(options.api, probe, t).then(function (err) { throw err; });
    });
  }

  /** can: false once a chat was refused for the key itself (revoked, its chat permission or this
   * site's origin taken away): the buttons on screen are disabled with it, as a rating would be
   * refused the same way; a later answer that comes brings them back. */
  function allow(can) {
    allowed = can;
    shown = shown.filter(function (button) { return button.isConnected; });
    shown.forEach(function (button) { button.disabled = !can; });
  }

  return { attach: attach, allow: allow };
}

/** A chat failure that refuses the key itself (streamChat's ChatError, or an error event's type). */
function keyRefused(err, eventType) {
  if (eventType) return eventType === "authentication_failed" || eventType === "permission_denied";
  return err.kind === "origin" || (err.kind === "http" && (err.status === 401 || err.status === 403));
}
