// ------------------------------------------------------------------ built-in languages: es, ar

// The keys of TEXTS.en (i18n.js), translated. A missing key reads in English.

TEXTS.es = {
  title: "Pregunte a nuestro asistente",
  greeting: "¡Hola! Hágame una pregunta y le responderé a partir de nuestra documentación, con fuentes.",
  placeholder: "Escriba su pregunta\u2026",
  openChat: "Abrir el chat: {title}",
  closeChatTitled: "Cerrar el chat: {title}",
  closeChat: "Cerrar el chat",
  close: "Cerrar",
  newConversation: "Nueva conversación",
  startNewConversation: "Empezar una nueva conversación",
  conversation: "Conversación",
  yourMessage: "Su mensaje",
  send: "Enviar mensaje",
  sendTitle: "Enviar (Intro)",
  stop: "Detener la respuesta",
  stopTitle: "Detener",
  footnote: "Las respuestas provienen de nuestros documentos y pueden contener errores.",
  youSaid: "Usted escribió: ",
  assistant: "Asistente: ",
  thinking: "Pensando\u2026",
  stopped: "Detenida.",
  lengthLimit: "La respuesta alcanzó su longitud máxima.",
  answerFailed: "La respuesta falló. Inténtelo de nuevo.",
  noKey: "Este chat no está configurado: al widget le falta data-key.",
  interrupted: "La respuesta se interrumpió: la página se recargó o se abandonó antes de que terminara.",
  sources: "Fuentes",
  source: "Fuente {n}",
  openSource: "Abrir la fuente",
  table: "Tabla",
  code: "Código, se desplaza horizontalmente",
  codeLanguage: "Código ({language}), se desplaza horizontalmente",
  rateAnswer: "Valorar esta respuesta",
  helpful: "Útil",
  notHelpful: "No útil",
  pressedTitle: "{label} (vuelva a hacer clic para quitar la valoración)",
  saving: "Guardando\u2026",
  removing: "Quitando su valoración\u2026",
  savedHelpful: "Valoración guardada: útil.",
  savedNotHelpful: "Valoración guardada: no útil.",
  removed: "Valoración eliminada.",
  notSaved: "No se guardó su valoración. {reason}",
  cannotRate: "Esta respuesta ya no se puede valorar.",
  retry: "Reintentar",
  retryTitle: "Enviar su pregunta de nuevo",
  retrying: "Enviando su pregunta de nuevo\u2026",
  refusedNotice: "No se pueden enviar mensajes: el servicio de chat rechazó este sitio web o su clave. " +
    "Si administra este sitio, revise el data-key del widget y los orígenes permitidos de su clave.",
  refusedPlaceholder: "Chat no disponible",
  tryAgain: "Intentar de nuevo",
  notFound: "No se encontró el servidor del chat (HTTP {status}). Si administra este sitio, ponga en " +
    "el data-api del widget la dirección del servidor del chat.",
  notFoundAt: "No se encontró el servidor del chat en {api} (HTTP {status}). Si administra este sitio, " +
    "ponga en el data-api del widget la dirección del servidor del chat.",
  keyInvalid: "Este chat no está disponible: su clave de acceso no es válida, fue revocada o caducó. " +
    "Si administra este sitio, revise el data-key del widget.",
  refused: "Rechazado: {reason}",
  refusedSite: "Rechazado: este sitio web no tiene permiso para usar este chatbot.",
  tooMany: function (a) {
    return "Este chat está recibiendo demasiados mensajes en este momento. Espere " +
      seconds(a.seconds, "1 segundo", "segundos") + " y vuelva a intentarlo.";
  },
  tooManyMoment: "Este chat está recibiendo demasiados mensajes en este momento. Espere un momento y " +
    "vuelva a intentarlo.",
  serverProblem: "El servicio de chat tuvo un problema (HTTP {status}). Vuelva a intentarlo en un momento.",
  requestFailed: "La solicitud falló (HTTP {status}).",
  network: "No se pudo conectar con el servicio de chat. Compruebe su conexión y vuelva a intentarlo.",
  unavailable: "El servicio de chat no está disponible por unos momentos. Vuelva a intentarlo en un momento.",
  originRefused: "Rechazado: este sitio web ({origin}) no tiene permiso para usar este chatbot, o su " +
    "clave ya no es válida. Si administra este sitio, añada su dirección a los orígenes permitidos de " +
    "la clave de navegador y revise el data-key del widget.",
  csp: "El chat no está disponible en esta página. Si administra este sitio, consulte la consola del navegador.",
  stalled: "La conexión se quedó detenida antes de que terminara la respuesta. Vuelva a intentarlo.",
  cutOff: "La respuesta se cortó antes de terminar. Vuelva a intentarlo.",
  lost: "Se perdió la conexión antes de que terminara la respuesta. Vuelva a intentarlo.",
  noStream: "Este navegador no puede leer respuestas transmitidas en directo.",
  autoRetryNetwork: function (a) {
    return "No se pudo conectar con el servicio de chat. Su pregunta se enviará de nuevo dentro de " +
      seconds(a.seconds, "1 segundo", "segundos") + ".";
  },
  autoRetryUnavailable: function (a) {
    return "El servicio de chat no está disponible por unos momentos. Su pregunta se enviará de nuevo " +
      "dentro de " + seconds(a.seconds, "1 segundo", "segundos") + ".";
  },
  errorNotFound: "Este chat no está disponible: no se encontró su bot o su ámbito. Si administra este " +
    "sitio, revise el data-bot y el data-scope del widget.",
  errorPermission: "la clave de este sitio no puede usar este chat. Si administra este sitio, revise " +
    "los permisos de su clave.",
  errorBusy: "Esta conversación aún está respondiendo a su mensaje anterior. Espere a que termine la " +
    "respuesta y vuelva a enviarlo.",
  errorTooLong: "Su mensaje es demasiado largo: se admiten como máximo {max} caracteres. Acórtelo e " +
    "inténtelo de nuevo.",
  errorTooLarge: "Su mensaje es demasiado grande para enviarlo. Acórtelo e inténtelo de nuevo.",
  errorUpstream: "El asistente no puede responder en este momento. Inténtelo de nuevo en un momento.",
  errorRevoked: "La respuesta se interrumpió: la clave de acceso de este chat ya no es válida. Si " +
    "administra este sitio, revise el data-key del widget.",
  errorNotStored: "La conversación se eliminó mientras se escribía esta respuesta, por lo que no se guardó.",
  errorInternal: "No se pudo guardar la respuesta. Inténtelo de nuevo.",
};

/** Arabic: 1 ثانية واحدة, 2 ثانيتين, then by the last two digits 3-10 ثوانٍ, else ثانية. */
function arabicSeconds(n) {
  if (n === 1) return "ثانية واحدة";
  if (n === 2) return "ثانيتين";
  var tail = n % 100;
  return n + (tail >= 3 && tail <= 10 ? " ثوانٍ" : " ثانية");
}

TEXTS.ar = {
  title: "اسأل مساعدنا",
  greeting: "مرحبًا! اطرح سؤالك وسأجيبك من وثائقنا مع ذكر المصادر.",
  placeholder: "اكتب سؤالك\u2026",
  openChat: "فتح المحادثة: {title}",
  closeChatTitled: "إغلاق المحادثة: {title}",
  closeChat: "إغلاق المحادثة",
  close: "إغلاق",
  newConversation: "محادثة جديدة",
  startNewConversation: "بدء محادثة جديدة",
  conversation: "المحادثة",
  yourMessage: "رسالتك",
  send: "إرسال الرسالة",
  sendTitle: "إرسال (Enter)",
  stop: "إيقاف الإجابة",
  stopTitle: "إيقاف",
  footnote: "تستند الإجابات إلى وثائقنا وقد تحتوي على أخطاء.",
  youSaid: "سؤالك: ",
  assistant: "المساعد: ",
  thinking: "جارٍ التفكير\u2026",
  stopped: "تم الإيقاف.",
  lengthLimit: "بلغت الإجابة الحد الأقصى لطولها.",
  answerFailed: "تعذّرت الإجابة. يُرجى المحاولة مرة أخرى.",
  noKey: "هذه المحادثة غير مُعدّة: لا تحتوي الأداة على data-key.",
  interrupted: "انقطعت الإجابة: أُعيد تحميل الصفحة أو غادرتَها قبل اكتمال الإجابة.",
  sources: "المصادر",
  source: "المصدر {n}",
  openSource: "فتح المصدر",
  table: "جدول",
  code: "شيفرة، تُمرَّر أفقيًا",
  codeLanguage: "شيفرة ({language})، تُمرَّر أفقيًا",
  rateAnswer: "قيّم هذه الإجابة",
  helpful: "مفيدة",
  notHelpful: "غير مفيدة",
  pressedTitle: "{label} (انقر مرة أخرى لإزالة التقييم)",
  saving: "جارٍ الحفظ\u2026",
  removing: "جارٍ إزالة تقييمك\u2026",
  savedHelpful: "تم حفظ التقييم: مفيدة.",
  savedNotHelpful: "تم حفظ التقييم: غير مفيدة.",
  removed: "تمت إزالة التقييم.",
  notSaved: "لم يُحفظ تقييمك. {reason}",
  cannotRate: "لم يعد بالإمكان تقييم هذه الإجابة.",
  retry: "إعادة المحاولة",
  retryTitle: "إرسال سؤالك مرة أخرى",
  retrying: "جارٍ إرسال سؤالك مرة أخرى\u2026",
  refusedNotice: "تعذّر إرسال الرسائل: رفضت خدمة المحادثة هذا الموقع أو مفتاحه. إذا كنت تدير هذا " +
    "الموقع، فتحقّق من data-key في الأداة ومن النطاقات المسموح بها لمفتاحها.",
  refusedPlaceholder: "المحادثة غير متاحة",
  tryAgain: "حاول مرة أخرى",
  notFound: "لم يُعثر على خادم المحادثة (HTTP {status}). إذا كنت تدير هذا الموقع، فاضبط data-api في " +
    "الأداة على عنوان خادم المحادثة.",
  notFoundAt: "لم يُعثر على خادم المحادثة في {api} (HTTP {status}). إذا كنت تدير هذا الموقع، فاضبط " +
    "data-api في الأداة على عنوان خادم المحادثة.",
  keyInvalid: "هذه المحادثة غير متاحة: مفتاح الوصول الخاص بها غير صالح أو مُلغى أو منتهي الصلاحية. " +
    "إذا كنت تدير هذا الموقع، فتحقّق من data-key في الأداة.",
  refused: "مرفوض: {reason}",
  refusedSite: "مرفوض: لا يُسمح لهذا الموقع باستخدام روبوت المحادثة هذا.",
  tooMany: function (a) {
    return "تتلقى هذه المحادثة رسائل كثيرة جدًا الآن. يُرجى الانتظار " + arabicSeconds(a.seconds) +
      " ثم المحاولة مرة أخرى.";
  },
  tooManyMoment: "تتلقى هذه المحادثة رسائل كثيرة جدًا الآن. يُرجى الانتظار لحظة ثم المحاولة مرة أخرى.",
  serverProblem: "واجهت خدمة المحادثة مشكلة (HTTP {status}). يُرجى المحاولة مرة أخرى بعد قليل.",
  requestFailed: "فشل الطلب (HTTP {status}).",
  network: "تعذّر الوصول إلى خدمة المحادثة. تحقّق من اتصالك وحاول مرة أخرى.",
  unavailable: "خدمة المحادثة غير متاحة مؤقتًا. يُرجى المحاولة مرة أخرى بعد قليل.",
  originRefused: "مرفوض: لا يُسمح لهذا الموقع ({origin}) باستخدام روبوت المحادثة هذا، أو لم يعد مفتاحه " +
    "صالحًا. إذا كنت تدير هذا الموقع، فأضف عنوانه إلى النطاقات المسموح بها لمفتاح المتصفح وتحقّق من " +
    "data-key في الأداة.",
  csp: "المحادثة غير متاحة في هذه الصفحة. إذا كنت تدير هذا الموقع، فراجع وحدة تحكم المتصفح.",
  stalled: "توقف الاتصال قبل اكتمال الإجابة. يُرجى المحاولة مرة أخرى.",
  cutOff: "انقطعت الإجابة قبل اكتمالها. يُرجى المحاولة مرة أخرى.",
  lost: "انقطع الاتصال قبل اكتمال الإجابة. يُرجى المحاولة مرة أخرى.",
  noStream: "لا يستطيع هذا المتصفح قراءة الإجابات المتدفقة.",
  autoRetryNetwork: function (a) {
    return "تعذّر الوصول إلى خدمة المحادثة. سيُرسل سؤالك مرة أخرى بعد " + arabicSeconds(a.seconds) + ".";
  },
  autoRetryUnavailable: function (a) {
    return "خدمة المحادثة غير متاحة مؤقتًا. سيُرسل سؤالك مرة أخرى بعد " + arabicSeconds(a.seconds) + ".";
  },
  errorNotFound: "هذه المحادثة غير متاحة: لم يُعثر على الروبوت أو النطاق الخاص بها. إذا كنت تدير هذا " +
    "الموقع، فتحقّق من data-bot وdata-scope في الأداة.",
  errorPermission: "مفتاح هذا الموقع غير مسموح له باستخدام هذه المحادثة. إذا كنت تدير هذا الموقع، " +
    "فتحقّق من صلاحيات المفتاح.",
  errorBusy: "لا تزال هذه المحادثة تجيب عن رسالتك السابقة. يُرجى الانتظار حتى تكتمل الإجابة ثم الإرسال مرة أخرى.",
  errorTooLong: "رسالتك طويلة جدًا (الحد الأقصى لعدد الأحرف: {max}). يُرجى اختصارها والمحاولة مرة أخرى.",
  errorTooLarge: "رسالتك أكبر من أن تُرسل. يُرجى اختصارها والمحاولة مرة أخرى.",
  errorUpstream: "لا يستطيع المساعد الإجابة الآن. يُرجى المحاولة مرة أخرى بعد قليل.",
  errorRevoked: "انقطعت الإجابة: مفتاح الوصول لهذه المحادثة لم يعد صالحًا. إذا كنت تدير هذا الموقع، " +
    "فتحقّق من data-key في الأداة.",
  errorNotStored: "حُذفت المحادثة أثناء كتابة هذه الإجابة، لذا لم تُحفظ.",
  errorInternal: "تعذّر حفظ الإجابة. يُرجى المحاولة مرة أخرى.",
};
