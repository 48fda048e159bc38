# Emulator of the Telegram Bot API, served over HTTP on loopback.
#
# Telegram is never reachable from the machines SIGAP is developed and benchmarked on, so the
# test suite, the benchmark and `sigap sandbox` run the real python-telegram-bot (PTB) stack
# against this server instead. It speaks the same wire protocol as api.telegram.org (the
# `{"ok": ..., "result": ...}` envelope, JSON / urlencoded / multipart request bodies, HTTP error
# codes that PTB maps onto its exception classes), so no bot code has to know it is emulated.
#
# Invariants (the tests and the bot's at-least-once update handling rely on them):
#   * update_id values are strictly increasing and never reused. An update stays queued until
#     a getUpdates call carries an offset greater than its update_id; only then is it dropped,
#     for good. Returning an update does NOT confirm it, exactly like the real Bot API, so a
#     bot that dies mid-batch gets the unconfirmed rest again on its next poll.
#   * message_id values are unique per chat and shared by both directions of a chat.
#   * Every message the bot sends or edits (and every deletion) is appended to `sent` as an
#     immutable `Outgoing` record, in the order the requests were processed. The stored
#     message state (`messages_in`, `history`) always reflects edits and deletions.
#   * A request answered with an error (injected fault, validation error, blocked chat) sends,
#     edits and deletes nothing; at most a file uploaded with a rejected sendMediaGroup stays
#     stored, unreferenced. drop_next(after_processing=True) is the one deliberate exception:
#     the call takes effect and only its answer is lost.
#   * The server runs in the caller's asyncio loop. Every mutation happens under one lock, and
#     request handlers never await while holding it, so the control API may also be called
#     from another thread (wake-ups are then marshalled into the loop).
#   * Several bots share one server, as on api.telegram.org: add_bot(token, username) gives
#     another bot, an emulator of its own (users, chats, updates, `sent`), answered at the same
#     address under its token; a token nobody added answers 401.
#   * Only one getUpdates call is served at a time: a newer call terminates an older waiting
#     one with 409 Conflict, as the real API does when two bot instances poll.
#
# Deliberate simplifications: while a webhook is set, updates are POSTed to it one at a time
# (getUpdates answers 409 meanwhile, as on Telegram) and retried every 0.2 s without backoff;
# photos are not resized (every PhotoSize of a photo downloads as the uploaded bytes); URLs
# given as files are not fetched; inline mode, payments, games and business connections are
# not emulated.
#
# The package is split by concern; BotApiEmulator (server.py) is assembled from one mixin per
# concern, all sharing the state created in state.py:
#   server.py          BotApiEmulator: lifecycle, HTTP routes, request dispatch
#   state.py           the shared state (one lock), wake-ups, message ids and dates
#   chats.py           users and chats registered by the control API
#   user_actions.py    the control API that plays the users (messages, presses, raw updates)
#   observing.py       the control API that watches the bot (sent, waits)
#   faults.py          fault and latency injection
#   updates.py         the update queue: getUpdates long polling, webhook delivery
#   outgoing.py        what every sending method shares (chat lookup, markup, store, record)
#   methods_send.py    sendMessage, sendPhoto, ..., forwardMessage / copyMessage
#   methods_edit.py    editMessage*, deleteMessage(s), answerCallbackQuery
#   methods_chats.py   getMe, getChat, getChatMember, commands, bot texts, menu button
#   files.py           uploads, stored files, getFile and downloads
#   formatting.py      parse_mode: parse_formatted_text (parse_html.py, parse_markdown.py,
#                      entities.py hold the parsers and entity helpers)
#   params.py          request parameter decoding and validation
#   records.py         the records tests read (Outgoing, AnsweredCallback, ApiCall, StoredFile)
#   markup.py          keyboards: buttons() and reply_markup checks
#   errors.py          Bot API error answers
#   limits.py          JSONDict and the Bot API limits
#   wakeup.py          the broadcast wake-up used by long polls and waits
#
# This module is the public surface: import from bot.emulators.telegram (or bot.emulators),
# not from the modules above, whose layout may change. Besides __all__ it re-exports (as
# `X as X`) the constants the single-module emulator had, so old imports keep working.
from bot.emulators.telegram.formatting import parse_formatted_text
from bot.emulators.telegram.limits import DEFAULT_ALLOWED_UPDATES as DEFAULT_ALLOWED_UPDATES
from bot.emulators.telegram.limits import MAX_CALLBACK_DATA_BYTES as MAX_CALLBACK_DATA_BYTES
from bot.emulators.telegram.limits import MAX_CAPTION_LENGTH as MAX_CAPTION_LENGTH
from bot.emulators.telegram.limits import MAX_DOWNLOAD_BYTES as MAX_DOWNLOAD_BYTES
from bot.emulators.telegram.limits import MAX_TEXT_LENGTH as MAX_TEXT_LENGTH
from bot.emulators.telegram.limits import MAX_UPLOAD_BYTES as MAX_UPLOAD_BYTES
from bot.emulators.telegram.limits import JSONDict as JSONDict
from bot.emulators.telegram.markup import buttons
from bot.emulators.telegram.records import AnsweredCallback, ApiCall, Outgoing, StoredFile
from bot.emulators.telegram.server import BotApiEmulator

__all__ = [
    "AnsweredCallback",
    "ApiCall",
    "BotApiEmulator",
    "Outgoing",
    "StoredFile",
    "buttons",
    "parse_formatted_text",
]
