# Files: uploads from either side stored as StoredFile, the media objects messages carry,
# getFile and the download route (/file/bot<token>/<path>).
from __future__ import annotations

import copy
import hashlib
import struct
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from bot.emulators.telegram.errors import _bad_request, _error_response
from bot.emulators.telegram.limits import MAX_DOWNLOAD_BYTES, JSONDict
from bot.emulators.telegram.params import _Params
from bot.emulators.telegram.records import StoredFile, _Upload
from bot.emulators.telegram.state import EmulatorState

# (file_id prefix, directory of file_path, default extension, default MIME type)
_FILE_KINDS: Final[dict[str, tuple[str, str, str, str | None]]] = {
    "photo": ("AgAC", "photos", ".jpg", None),
    "document": ("BQAC", "documents", "", "application/octet-stream"),
    "video": ("BAAC", "videos", ".mp4", "video/mp4"),
    "audio": ("CQAC", "music", ".mp3", "audio/mpeg"),
    "voice": ("AwAC", "voice", ".oga", "audio/ogg"),
    "animation": ("CgAC", "animations", ".mp4", "video/mp4"),
    "sticker": ("CAAC", "stickers", ".webp", None),
    "video_note": ("DQAC", "video_notes", ".mp4", None),
}


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG image, read from its header; None if unknown."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (segment_length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + segment_length
    return None


class FilesMixin(EmulatorState):
    """Storing files, resolving file parameters, getFile and downloads."""

    def _store_file(
        self,
        kind: str,
        data: bytes | None,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        unique_id: str | None = None,
    ) -> StoredFile:
        prefix, directory, extension, default_mime = _FILE_KINDS[kind]
        self._file_seq += 1
        number = self._file_seq
        if data is None:
            # Placeholder content, distinct per file so file_unique_id stays unique.
            data = f"{kind} #{number} from the Telegram emulator".encode()
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        digest = hashlib.sha256(kind.encode() + b"\0" + data).hexdigest()
        stored = StoredFile(
            file_id=f"{prefix}{self.bot_id}_{number:07d}",
            file_unique_id=unique_id or f"AgAD{digest[:16]}",
            kind=kind,
            data=data,
            file_path=f"{directory}/file_{number}{extension}",
            file_name=file_name,
            mime_type=mime_type or default_mime,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _store_photo(self, data: bytes) -> list[JSONDict]:
        """Several PhotoSize entries like Telegram makes; all download as the original bytes."""
        width, height = _image_size(data) or (1280, 960)
        longest = max(width, height, 1)
        targets = [t for t in (90, 320, 800) if t < longest] + [min(longest, 2560)]
        digest = hashlib.sha256(data).hexdigest()[:14]
        sizes: list[JSONDict] = []
        for index, target in enumerate(targets):
            stored = self._store_file("photo", data, unique_id=f"AQAD{digest}{index:02d}")
            scale = target / longest
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                    "file_size": len(data),
                }
            )
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return copy.deepcopy(sizes)

    def _media_object(self, stored: StoredFile) -> JSONDict:
        media: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.kind in ("document", "video", "audio", "voice", "animation") and stored.mime_type:
            media["mime_type"] = stored.mime_type
        if stored.file_name and stored.kind in ("document", "video", "audio", "animation"):
            media["file_name"] = stored.file_name
        if stored.kind in ("video", "animation"):
            media.update(width=640, height=360, duration=5)
        elif stored.kind in ("audio", "voice"):
            media["duration"] = 3
        elif stored.kind == "sticker":
            media.update(type="regular", width=512, height=512, is_animated=False, is_video=False)
        return media

    def _input_file(
        self, value: Any, kind: str, uploads: Mapping[str, _Upload]
    ) -> JSONDict | list[JSONDict]:
        """Resolve a file parameter (upload, attach:// reference, file_id or URL) to the
        content field of a message: a PhotoSize list for photos, a media object otherwise."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad_request(f"file {value} not found in the request")
            value = upload
        if isinstance(value, _Upload):
            if not value.data:
                raise _bad_request("file must be non-empty")
            if kind == "photo":
                return self._store_photo(value.data)
            stored = self._store_file(
                kind, value.data, file_name=value.filename, mime_type=value.content_type
            )
            return self._media_object(stored)
        if isinstance(value, str) and value:
            if value.startswith(("http://", "https://")):
                # Not fetched (no network); a placeholder stands in for the remote file.
                if kind == "photo":
                    return self._store_photo(b"")
                return self._media_object(
                    self._store_file(kind, None, file_name=value.rsplit("/", 1)[-1])
                )
            existing = self._files.get(value)
            if existing is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
            if existing.kind != kind:
                raise _bad_request(
                    f"can't use file of type {existing.kind.capitalize()} as {kind.capitalize()}"
                )
            if kind == "photo":
                return copy.deepcopy(self._photo_sets.get(value) or [])
            return self._media_object(existing)
        raise _bad_request(f"there is no {kind} in the request")

    def _get_file(self, p: _Params) -> JSONDict:
        with self._lock:
            stored = self._files.get(p.string("file_id") or "")
            if stored is None:
                raise _bad_request("invalid file_id")
            if len(stored.data) > MAX_DOWNLOAD_BYTES:
                raise _bad_request("file is too big")
            return {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data),
                "file_path": stored.file_path,
            }

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error_response(401, "Unauthorized")
        with self._lock:
            stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return _error_response(404, "Not Found")
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )
