"""export_ledger OUT [--region CODE] [--layout official|platform] --reason TEXT (API.md): xlsx, or csv by
the file's suffix. The export is logged with its reason (R11.3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shouhu.core.models import Region
from shouhu.ledger.exporter import LAYOUTS, STATUSES, ExportError, export_ledger
from shouhu.ledger.management.commands.import_ledger import default_actor


class Command(BaseCommand):
    help = "Export the ledger in the official (MCA 2016) or the platform layout, with the summary sheet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out")
        parser.add_argument("--region")
        parser.add_argument("--layout", choices=LAYOUTS, default="official")
        parser.add_argument("--status", choices=STATUSES, default="left_behind")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--user", help="username to act as (default: the county administrator)")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = default_actor(options.get("user"))
        if actor is None:
            raise CommandError("没有可用的操作用户（--user）。")
        region = None
        if options.get("region"):
            region = Region.objects.filter(code=options["region"]).first()
            if region is None:
                raise CommandError(f"区划代码 {options['region']} 不存在。")
        out = Path(options["out"])
        try:
            n = export_ledger(
                out,
                user=actor,
                reason=options["reason"],
                region=region,
                layout=options["layout"],
                status=options["status"],
                fmt="csv" if out.suffix.lower() == ".csv" else "xlsx",
            )
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{n}")
