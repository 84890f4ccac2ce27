"""The import page: upload (or paste) a creators CSV, preview it, then import it.

Both steps validate the whole file again (the preview may be stale); the import writes all
rows in one transaction or none. A file with any bad row is shown with each bad row's
number and reason, and nothing is written.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from admin import imports
from admin.web import admin, read_form, redirect, render
from tracker.core.errors import Conflict


async def import_form(request: Request) -> Response:
    return render(
        request,
        "import.html",
        active="import",
        preview=None,
        text="",
        columns=imports.COLUMNS,
        error=None,
    )


async def import_creators(request: Request) -> Response:
    store = admin(request).store
    form = await read_form(request)
    upload = form.get("file")
    text = str(form.get("text") or "")
    error = None
    if isinstance(upload, UploadFile) and upload.filename:
        try:
            text = imports.decode(await upload.read())
        except UnicodeDecodeError:
            error = "the file is not UTF-8 text: save it as 'CSV UTF-8' and retry"
    if error or not text.strip():
        return render(
            request,
            "import.html",
            status=422,
            active="import",
            preview=None,
            text=text,
            columns=imports.COLUMNS,
            error=error or "choose a CSV file (or paste its text) first",
        )
    existing = await store.existing_handles(imports.handle_keys(text))
    preview = imports.parse_creators(text, existing)
    if form.get("action") == "import" and preview.ok:
        try:
            n = await store.import_creators(preview.valid_data())
        except Conflict as exc:  # a handle taken between preview and import: none written
            return render(
                request,
                "import.html",
                status=409,
                active="import",
                preview=preview,
                text=text,
                columns=imports.COLUMNS,
                error=exc.reason,
            )
        return redirect(request, "/creators", imported=str(n))
    status = 200 if preview.ok else 422
    return render(
        request,
        "import.html",
        status=status,
        active="import",
        preview=preview,
        text=text,
        columns=imports.COLUMNS,
        error=None,
    )
