"""The test harness is the console's chat client: a recording session and send/click/press."""

from bot.console.chat import BOT_USER, ChatClient, OfflineSession, Reply, button_texts

RecordingSession = OfflineSession
BotClient = ChatClient

__all__ = ["BOT_USER", "BotClient", "RecordingSession", "Reply", "button_texts"]
