"""The refusal a chat answers when a scope refuses (blocked input; ``require_grounding`` with
nothing retrieved): the scope's ``refusal_message``, the tenant's own text, as written. Only a
scope still holding the model's English default gets that default in the question's language
(``answer_language.detect``; an unclear question, or a language without a sentence here, keeps
the English one), so a German visitor is not refused in English by a text nobody chose."""

from __future__ import annotations

from bots.models import DEFAULT_REFUSAL
from conversations.answer_language import detect

REFUSALS: dict[str, str] = {
    "en": DEFAULT_REFUSAL,
    "de": "Entschuldigung, bei dieser Anfrage kann ich nicht helfen.",
    "fr": "Désolé, je ne peux pas vous aider avec cette demande.",
    "es": "Lo siento, no puedo ayudar con esa solicitud.",
    "pt": "Desculpe, não posso ajudar com esse pedido.",
    "it": "Mi dispiace, non posso aiutarti con questa richiesta.",
    "nl": "Sorry, daar kan ik je niet mee helpen.",
    "ar": "عذرًا، لا يمكنني المساعدة في هذا الطلب.",
    "zh": "抱歉，我无法帮助处理这个请求。",
    "ja": "申し訳ありませんが、このご依頼にはお応えできません。",
    "ko": "죄송하지만 이 요청은 도와드릴 수 없습니다.",
    "ru": "Извините, я не могу помочь с этим запросом.",
}


def refusal_text(message: str, question: str) -> str:
    """``message`` (a scope's ``refusal_message``), or, when it is the untouched default, the
    default in ``question``'s language."""
    if message != DEFAULT_REFUSAL:
        return message
    return REFUSALS.get(detect(question) or "en", DEFAULT_REFUSAL)
