"""`rotate_keys`: re-encrypt every protected value under new keys, in one transaction (issue 10 part 4).

Three ways to say which keys are old and which are new:

- no option: old = the configured keys, new = freshly generated field, index and file keys (and the
  audit key with `--audit`). When those keys come from the key file, it is replaced after the commit
  (the new keys are written beside it first, `<file>.new`, so a crash leaves them recoverable); when
  they come from the environment, `--out FILE` receives the new keys to put there before restarting.
- `--old-keys FILE`: the operator has already configured the new keys; FILE (JSON, the key file's
  layout) holds the previous ones.
- `--from-derived [SECRET]`: data written by versions before issue 10 with keys derived from the
  SECRET_KEY (default: the public demo key); new = the configured keys.

Stop the server and the huey consumer first; start them again with the new keys (docs/operations.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.keys import DEMO_SECRET_KEY, KEY_ENV, new_keys, write_key_file
from shouhu.core.crypto import KEY_SETTINGS, KeySet, reset_key_caches
from shouhu.core.rotation import RotationRefused, rotate


class Command(BaseCommand):
    help = "Re-encrypt fields, blind indexes, stored files and uploads (and re-seal the audit chain) under new keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--audit", action="store_true", help="also replace the audit key (re-seal)")
        parser.add_argument("--out", help="write the new keys here (JSON, mode 0600)")
        parser.add_argument("--old-keys", help="JSON file with the previous keys; new = the configured ones")
        parser.add_argument(
            "--from-derived",
            nargs="?",
            const=DEMO_SECRET_KEY,
            help="old = the keys derived from this SECRET_KEY (default: the demo key) before issue 10",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        current = {name: str(getattr(settings, name)) for name in KEY_ENV}
        if options.get("from_derived"):
            old, new, write = KeySet.legacy(options["from_derived"]), KeySet.from_settings(), None
        elif options.get("old_keys"):
            try:
                stored = json.loads(Path(options["old_keys"]).read_text("utf-8"))
                old = KeySet.from_mapping({k: str(stored[k]) for k in KEY_SETTINGS})
            except (OSError, ValueError, KeyError) as exc:
                raise CommandError(f"--old-keys: {exc}") from None
            new, write = KeySet.from_settings(), None
        else:
            fresh = new_keys()
            write = {
                **current,
                **{k: fresh[k] for k in ("FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY", "FILE_ENCRYPTION_KEY")},
            }
            if options["audit"]:
                write["AUDIT_SEAL_KEY"] = fresh["AUDIT_SEAL_KEY"]
            old, new = KeySet.from_settings(), KeySet.from_mapping(write)
        key_file = Path(settings.SHOUHU_KEYS_FILE)
        from_file = [k for k in KEY_SETTINGS if settings.SHOUHU_KEY_SOURCES.get(k) == str(key_file)]
        staged = None
        if write is not None:
            if options.get("out"):
                write_key_file(Path(options["out"]), write)
            elif len(from_file) == len(KEY_SETTINGS):
                staged = key_file.with_name(key_file.name + ".new")
                write_key_file(staged, write)
            else:
                raise CommandError("the keys come from the environment: give --out FILE for the new keys")
        try:
            summary = rotate(old, new)
        except (RotationRefused, ValueError) as exc:
            if staged is not None:
                staged.unlink(missing_ok=True)
            raise CommandError(f"nothing changed: {exc}") from None
        if old.audit != new.audit:
            from shouhu.core.checkpoints import write_rekey

            write_rekey(old.audit, new.audit)
        if staged is not None:
            os.replace(staged, key_file)
        if write is not None:  # this process goes on with the new keys (tests; a following command)
            for name, value in write.items():
                setattr(settings, name, value)
        reset_key_caches()
        self.stdout.write(json.dumps({"rotated": summary, "fingerprints": new.fingerprints()}))
        if write is not None and options.get("out"):
            self.stdout.write(
                f"new keys written to {options['out']}: set them in the environment, then restart"
            )
