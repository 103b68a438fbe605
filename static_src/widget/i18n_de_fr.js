// ------------------------------------------------------------------ built-in languages: de, fr

// The keys of TEXTS.en (i18n.js), translated. A missing key reads in English.

TEXTS.de = {
  title: "Fragen Sie unseren Assistenten",
  greeting: "Hallo! Stellen Sie mir eine Frage \u2013 ich antworte anhand unserer Dokumentation, mit Quellen.",
  placeholder: "Ihre Frage eingeben\u2026",
  openChat: "Chat öffnen: {title}",
  closeChatTitled: "Chat schließen: {title}",
  closeChat: "Chat schließen",
  close: "Schließen",
  newConversation: "Neues Gespräch",
  startNewConversation: "Ein neues Gespräch beginnen",
  conversation: "Gespräch",
  yourMessage: "Ihre Nachricht",
  send: "Nachricht senden",
  sendTitle: "Senden (Eingabetaste)",
  stop: "Antwort anhalten",
  stopTitle: "Anhalten",
  footnote: "Die Antworten stammen aus unseren Dokumenten und können Fehler enthalten.",
  youSaid: "Sie haben geschrieben: ",
  assistant: "Assistent: ",
  thinking: "Denkt nach\u2026",
  stopped: "Angehalten.",
  lengthLimit: "Die Antwort hat ihre maximale Länge erreicht.",
  answerFailed: "Die Antwort ist fehlgeschlagen. Bitte versuchen Sie es erneut.",
  noKey: "Dieser Chat ist nicht eingerichtet: Dem Widget fehlt data-key.",
  interrupted: "Die Antwort wurde unterbrochen: Die Seite wurde neu geladen oder verlassen, bevor sie fertig war.",
  sources: "Quellen",
  source: "Quelle {n}",
  openSource: "Quelle öffnen",
  table: "Tabelle",
  code: "Code, seitlich scrollbar",
  codeLanguage: "Code ({language}), seitlich scrollbar",
  rateAnswer: "Diese Antwort bewerten",
  helpful: "Hilfreich",
  notHelpful: "Nicht hilfreich",
  pressedTitle: "{label} (zum Entfernen erneut klicken)",
  saving: "Wird gespeichert\u2026",
  removing: "Ihre Bewertung wird entfernt\u2026",
  savedHelpful: "Bewertung gespeichert: hilfreich.",
  savedNotHelpful: "Bewertung gespeichert: nicht hilfreich.",
  removed: "Bewertung entfernt.",
  notSaved: "Ihre Bewertung wurde nicht gespeichert. {reason}",
  cannotRate: "Diese Antwort kann nicht mehr bewertet werden.",
  retry: "Wiederholen",
  retryTitle: "Ihre Frage erneut senden",
  retrying: "Ihre Frage wird erneut gesendet\u2026",
  refusedNotice: "Nachrichten können nicht gesendet werden: Der Chat-Dienst hat diese Website oder ihren " +
    "Schlüssel abgelehnt. Wenn Sie diese Website betreiben, prüfen Sie data-key des Widgets und die " +
    "erlaubten Origins seines Schlüssels.",
  refusedPlaceholder: "Chat nicht verfügbar",
  tryAgain: "Erneut versuchen",
  notFound: "Der Chat-Server wurde nicht gefunden (HTTP {status}). Wenn Sie diese Website betreiben, " +
    "setzen Sie data-api des Widgets auf die Adresse des Chat-Servers.",
  notFoundAt: "Der Chat-Server wurde unter {api} nicht gefunden (HTTP {status}). Wenn Sie diese Website " +
    "betreiben, setzen Sie data-api des Widgets auf die Adresse des Chat-Servers.",
  keyInvalid: "Dieser Chat ist nicht verfügbar: Sein Zugangsschlüssel ist ungültig, widerrufen oder " +
    "abgelaufen. Wenn Sie diese Website betreiben, prüfen Sie data-key des Widgets.",
  refused: "Abgelehnt: {reason}",
  refusedSite: "Abgelehnt: Diese Website darf diesen Chatbot nicht verwenden.",
  tooMany: function (a) {
    return "Dieser Chat erhält gerade zu viele Nachrichten. Bitte warten Sie " +
      seconds(a.seconds, "1 Sekunde", "Sekunden") + " und versuchen Sie es dann erneut.";
  },
  tooManyMoment: "Dieser Chat erhält gerade zu viele Nachrichten. Bitte warten Sie einen Moment und " +
    "versuchen Sie es dann erneut.",
  serverProblem: "Beim Chat-Dienst ist ein Fehler aufgetreten (HTTP {status}). Bitte versuchen Sie es gleich noch einmal.",
  requestFailed: "Die Anfrage ist fehlgeschlagen (HTTP {status}).",
  network: "Der Chat-Dienst ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
  unavailable: "Der Chat-Dienst ist kurzzeitig nicht verfügbar. Bitte versuchen Sie es gleich noch einmal.",
  originRefused: "Abgelehnt: Diese Website ({origin}) darf diesen Chatbot nicht verwenden, oder ihr " +
    "Schlüssel ist nicht mehr gültig. Wenn Sie diese Website betreiben, fügen Sie ihre Adresse den " +
    "erlaubten Origins des Browser-Schlüssels hinzu und prüfen Sie data-key des Widgets.",
  csp: "Der Chat ist auf dieser Seite nicht verfügbar. Wenn Sie diese Website betreiben, sehen Sie in der Browserkonsole nach.",
  stalled: "Die Verbindung ist ins Stocken geraten, bevor die Antwort fertig war. Bitte versuchen Sie es erneut.",
  cutOff: "Die Antwort wurde abgeschnitten, bevor sie fertig war. Bitte versuchen Sie es erneut.",
  lost: "Die Verbindung ist abgebrochen, bevor die Antwort fertig war. Bitte versuchen Sie es erneut.",
  noStream: "Dieser Browser kann gestreamte Antworten nicht lesen.",
  autoRetryNetwork: function (a) {
    return "Der Chat-Dienst ist nicht erreichbar. Ihre Frage wird in " +
      seconds(a.seconds, "1 Sekunde", "Sekunden") + " erneut gesendet.";
  },
  autoRetryUnavailable: function (a) {
    return "Der Chat-Dienst ist kurzzeitig nicht verfügbar. Ihre Frage wird in " +
      seconds(a.seconds, "1 Sekunde", "Sekunden") + " erneut gesendet.";
  },
  errorNotFound: "Dieser Chat ist nicht verfügbar: Sein Bot oder Bereich wurde nicht gefunden. Wenn Sie " +
    "diese Website betreiben, prüfen Sie data-bot und data-scope des Widgets.",
  errorPermission: "Der Schlüssel dieser Website darf diesen Chat nicht verwenden. Wenn Sie diese " +
    "Website betreiben, prüfen Sie die Berechtigungen des Schlüssels.",
  errorBusy: "Dieses Gespräch beantwortet noch Ihre vorige Nachricht. Bitte warten Sie, bis die Antwort " +
    "fertig ist, und senden Sie dann erneut.",
  errorTooLong: "Ihre Nachricht ist zu lang: Erlaubt sind höchstens {max} Zeichen. Bitte kürzen Sie sie " +
    "und versuchen Sie es erneut.",
  errorTooLarge: "Ihre Nachricht ist zu groß, um gesendet zu werden. Bitte kürzen Sie sie und versuchen " +
    "Sie es erneut.",
  errorUpstream: "Der Assistent kann gerade nicht antworten. Bitte versuchen Sie es gleich noch einmal.",
  errorRevoked: "Die Antwort wurde abgebrochen: Der Zugangsschlüssel dieses Chats ist nicht mehr gültig. " +
    "Wenn Sie diese Website betreiben, prüfen Sie data-key des Widgets.",
  errorNotStored: "Das Gespräch wurde gelöscht, während diese Antwort geschrieben wurde; sie wurde nicht gespeichert.",
  errorInternal: "Die Antwort konnte nicht gespeichert werden. Bitte versuchen Sie es erneut.",
};

// French: 0 and 1 take the singular ("0 seconde", "1 seconde").
function frenchSeconds(n) {
  return n + (n <= 1 ? "\u00a0seconde" : "\u00a0secondes");
}

TEXTS.fr = {
  title: "Interrogez notre assistant",
  greeting: "Bonjour\u00a0! Posez-moi une question\u00a0: je réponds à partir de notre documentation, sources à l'appui.",
  placeholder: "Saisissez votre question\u2026",
  openChat: "Ouvrir le chat\u00a0: {title}",
  closeChatTitled: "Fermer le chat\u00a0: {title}",
  closeChat: "Fermer le chat",
  close: "Fermer",
  newConversation: "Nouvelle conversation",
  startNewConversation: "Commencer une nouvelle conversation",
  conversation: "Conversation",
  yourMessage: "Votre message",
  send: "Envoyer le message",
  sendTitle: "Envoyer (Entrée)",
  stop: "Arrêter la génération",
  stopTitle: "Arrêter",
  footnote: "Les réponses proviennent de nos documents et peuvent contenir des erreurs.",
  youSaid: "Vous avez écrit\u00a0: ",
  assistant: "Assistant\u00a0: ",
  thinking: "Réflexion en cours\u2026",
  stopped: "Arrêté.",
  lengthLimit: "La réponse a atteint sa longueur maximale.",
  answerFailed: "La réponse a échoué. Veuillez réessayer.",
  noKey: "Ce chat n'est pas configuré\u00a0: le widget n'a pas de data-key.",
  interrupted: "La réponse a été interrompue\u00a0: la page a été rechargée ou quittée avant la fin.",
  sources: "Sources",
  source: "Source {n}",
  openSource: "Ouvrir la source",
  table: "Tableau",
  code: "Code, défilement horizontal",
  codeLanguage: "Code ({language}), défilement horizontal",
  rateAnswer: "Évaluer cette réponse",
  helpful: "Utile",
  notHelpful: "Pas utile",
  pressedTitle: "{label} (cliquez à nouveau pour retirer votre avis)",
  saving: "Enregistrement\u2026",
  removing: "Suppression de votre avis\u2026",
  savedHelpful: "Avis enregistré\u00a0: utile.",
  savedNotHelpful: "Avis enregistré\u00a0: pas utile.",
  removed: "Avis retiré.",
  notSaved: "Votre avis n'a pas été enregistré. {reason}",
  cannotRate: "Cette réponse ne peut plus être évaluée.",
  retry: "Réessayer",
  retryTitle: "Renvoyer votre question",
  retrying: "Nouvel envoi de votre question\u2026",
  refusedNotice: "Impossible d'envoyer des messages\u00a0: le service de chat a refusé ce site ou sa clé. " +
    "Si vous gérez ce site, vérifiez le data-key du widget et les origines autorisées de sa clé.",
  refusedPlaceholder: "Chat indisponible",
  tryAgain: "Réessayer",
  notFound: "Le serveur de chat est introuvable (HTTP {status}). Si vous gérez ce site, indiquez " +
    "l'adresse du serveur de chat dans le data-api du widget.",
  notFoundAt: "Le serveur de chat est introuvable à l'adresse {api} (HTTP {status}). Si vous gérez ce " +
    "site, indiquez l'adresse du serveur de chat dans le data-api du widget.",
  keyInvalid: "Ce chat est indisponible\u00a0: sa clé d'accès est invalide, révoquée ou expirée. " +
    "Si vous gérez ce site, vérifiez le data-key du widget.",
  refused: "Refusé\u00a0: {reason}",
  refusedSite: "Refusé\u00a0: ce site n'est pas autorisé à utiliser ce chatbot.",
  tooMany: function (a) {
    return "Ce chat reçoit trop de messages en ce moment. Veuillez patienter " + frenchSeconds(a.seconds) +
      " puis réessayer.";
  },
  tooManyMoment: "Ce chat reçoit trop de messages en ce moment. Veuillez patienter un instant puis réessayer.",
  serverProblem: "Le service de chat a rencontré un problème (HTTP {status}). Veuillez réessayer dans un instant.",
  requestFailed: "La requête a échoué (HTTP {status}).",
  network: "Impossible de joindre le service de chat. Vérifiez votre connexion et réessayez.",
  unavailable: "Le service de chat est momentanément indisponible. Veuillez réessayer dans un instant.",
  originRefused: "Refusé\u00a0: ce site ({origin}) n'est pas autorisé à utiliser ce chatbot, ou sa clé " +
    "n'est plus valide. Si vous gérez ce site, ajoutez son adresse aux origines autorisées de la clé " +
    "de navigateur et vérifiez le data-key du widget.",
  csp: "Le chat est indisponible sur cette page. Si vous gérez ce site, consultez la console du navigateur.",
  stalled: "La connexion s'est figée avant la fin de la réponse. Veuillez réessayer.",
  cutOff: "La réponse a été coupée avant la fin. Veuillez réessayer.",
  lost: "La connexion a été perdue avant la fin de la réponse. Veuillez réessayer.",
  noStream: "Ce navigateur ne sait pas lire les réponses diffusées au fil de l'eau.",
  autoRetryNetwork: function (a) {
    return "Impossible de joindre le service de chat. Votre question sera renvoyée dans " +
      frenchSeconds(a.seconds) + ".";
  },
  autoRetryUnavailable: function (a) {
    return "Le service de chat est momentanément indisponible. Votre question sera renvoyée dans " +
      frenchSeconds(a.seconds) + ".";
  },
  errorNotFound: "Ce chat est indisponible\u00a0: son bot ou son périmètre est introuvable. Si vous gérez " +
    "ce site, vérifiez le data-bot et le data-scope du widget.",
  errorPermission: "la clé de ce site n'est pas autorisée à utiliser ce chat. Si vous gérez ce site, " +
    "vérifiez les autorisations de sa clé.",
  errorBusy: "Cette conversation répond encore à votre message précédent. Attendez la fin de la réponse, " +
    "puis renvoyez votre message.",
  errorTooLong: "Votre message est trop long\u00a0: {max}\u00a0caractères au maximum. Raccourcissez-le " +
    "et réessayez.",
  errorTooLarge: "Votre message est trop volumineux pour être envoyé. Raccourcissez-le et réessayez.",
  errorUpstream: "L'assistant ne peut pas répondre pour le moment. Veuillez réessayer dans un instant.",
  errorRevoked: "La réponse a été interrompue\u00a0: la clé d'accès de ce chat n'est plus valide. Si vous " +
    "gérez ce site, vérifiez le data-key du widget.",
  errorNotStored: "La conversation a été supprimée pendant l'écriture de cette réponse\u00a0; la réponse " +
    "n'a pas été enregistrée.",
  errorInternal: "La réponse n'a pas pu être enregistrée. Veuillez réessayer.",
};
