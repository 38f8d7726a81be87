"""Per-company filing documents: find the 10-K/10-Q filings, land their inline-XBRL documents, parse
every numeric fact into the company's Parquet partitions; one writer loads them into core.filing_facts."""

import json
from dataclasses import asdict

import dagster as dg
import duckdb
import pandas as pd

from pipelines.defs.company_assets import company_for
from pipelines.defs.partitions import SEC_TAG, company_partitions
from pipelines.defs.resources import SecResource
from pipelines.lib import documents, filer_profiles, filing_tables, ixbrl, warehouse
from pipelines.lib.filing_partitions import FILING_TABLES
from pipelines.lib.raw_store import InvalidResponse, NoOfflineData, RawStore, UnsafePath
from pipelines.lib.settings import REPORTED_MEASURES_FILE


FILING_COLUMNS = ["cik", "accn", "form", "report_date", "filed", "primary_document", "url", "raw_sha256",
                  "fiscal_year", "fiscal_period", "facts", "status"]
WARNING_COLUMNS = ["cik", "accn", "message"]
MEASURE_COLUMNS = ["cik", "accn", "metric", "row_label", "fiscal_year", "value"]


def read_reported_measures(content: bytes, cik: str, accn: str) -> list[tuple]:
    """The company's own table rows listed in reference/reported_measures.csv, per year column."""
    specs = pd.read_csv(REPORTED_MEASURES_FILE, dtype={"cik": str})
    rows = []
    for spec in specs[specs.cik == cik].itertuples():
        for year, value in filing_tables.read_row(content, spec.row_label, float(spec.scale)).items():
            rows.append((cik, accn, spec.metric, spec.row_label, year, value))
    return rows


def manifest_name(cik: str) -> str:
    """The company's list of landed documents, in the raw zone (shared with the staging step's worker)."""
    return f"filings/CIK{cik}.json"


@dg.asset(key=["raw", "filing_documents"], partitions_def=company_partitions, group_name="raw", kinds={"html"},
          op_tags={SEC_TAG: "filing_documents"}, pool="sec_api")
def raw_filing_documents(context: dg.AssetExecutionContext, sec: SecResource) -> dg.MaterializeResult:
    """The primary documents of a company's 10-K/10-Q filings, unchanged, under warehouse/raw/,
    found through SEC's submissions feed (offline: the snapshot's filings index). A document that
    cannot be fetched, or is refused (not this filing's document), is listed with the reason and
    its stored copy, if it has one, is kept and read; the others still land."""
    company = company_for(context.partition_key, sec)
    landed, not_offline = [], []
    for filing in sec.discover_filings(company.cik):
        entry = {**asdict(filing), "url": filing.url(sec.www_url, company.cik), "path": None, "sha256": None, "error": None}
        try:
            raw = sec.land_filing_document(company.cik, filing)
            entry.update(path=str(raw.path), sha256=raw.meta.sha256)
        except (NoOfflineData, InvalidResponse, UnsafePath, RuntimeError) as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            stored = None if isinstance(exc, UnsafePath) else sec.raw_store().verified(entry["url"])
            if stored is not None:  # a bad answer must not empty the facts of the good copy
                entry.update(path=str(stored.path), sha256=stored.meta.sha256,
                             error=f"{entry['error']} (stored copy kept, sha256 {stored.meta.sha256[:12]})")
            if isinstance(exc, NoOfflineData) and stored is None:
                not_offline.append(f"{filing.form} {filing.accn}")  # known from the feed, no document here
            else:
                context.log.warning(f"{company.partition_key} {filing.accn}: {entry['error']}")
        landed.append(entry)
    if not_offline:
        context.log.info(f"{company.partition_key}: {len(not_offline)} filings have no offline document "
                         f"(newest {not_offline[0]}); listed in core.filings")
    sec.raw_store().write_listing(manifest_name(company.cik), json.dumps(landed, indent=2).encode())
    return dg.MaterializeResult(metadata={
        "cik": company.cik,
        "documents": len([e for e in landed if e["path"]]),
        "failed": len([e for e in landed if e["error"]]),
        "filings": dg.MetadataValue.md(pd.DataFrame(landed)[["accn", "form", "filed", "report_date"]].to_markdown(index=False))
        if landed else "none",
    })


def _facts_frame(parsed: ixbrl.ParsedDocument, cik: str, entry: dict) -> pd.DataFrame:
    frame = parsed.facts.assign(
        cik=cik, accn=entry["accn"], form=entry["form"], filed=entry["filed"],
        fy=parsed.dei.get("dei:DocumentFiscalYearFocus"), fp=parsed.dei.get("dei:DocumentFiscalPeriodFocus"),
    )
    return frame[frame.value.notna()]


def _read_document(entry: dict, cik: str, store: RawStore) -> tuple[tuple, pd.DataFrame | None, list[tuple], list[tuple]]:
    """One landed document -> its core.filings row, facts, warnings and table measures. The file is
    found from its URL in the raw zone, never from a path written in the manifest, and checked
    against its recorded sha256 first (RawFileCorrupt stops the company)."""
    status, parsed, measures = entry["error"] or "parsed", None, []
    if entry["sha256"]:
        try:
            stored = store.verified(entry["url"])
            if stored is None:
                raise FileNotFoundError(f"no stored copy of {entry['url']}")
            content = stored.path.read_bytes()
            parsed = documents.parse(content, entry["primary_document"], f"{entry['accn']} {entry['primary_document']}")
            measures = read_reported_measures(content, cik, entry["accn"])
        except (*documents.UNREADABLE, UnsafePath, OSError) as exc:
            status = str(exc)
        except (ValueError, ArithmeticError) as exc:  # anything else a hostile document trips: that document only
            status = f"{entry['primary_document']}: unreadable: {type(exc).__name__}: {exc}"
    frame = _facts_frame(parsed, cik, entry) if parsed else None
    problems = [(cik, entry["accn"], message) for message in (parsed.warnings if parsed else [status])]
    dei = parsed.dei if parsed else {}
    filing = (
        cik, entry["accn"], entry["form"], entry["report_date"] or None, entry["filed"], entry["primary_document"],
        entry["url"], entry["sha256"], dei.get("dei:DocumentFiscalYearFocus"), dei.get("dei:DocumentFiscalPeriodFocus"),
        0 if frame is None else len(frame), status,
    )
    return filing, frame, problems, measures



@dg.asset(
    key=["staging", "filing_documents"],
    deps=[raw_filing_documents],
    partitions_def=company_partitions,
    group_name="staging",
    kinds={"parquet"},
)
def staged_filing_documents(context: dg.AssetExecutionContext, sec: SecResource) -> dg.MaterializeResult:
    """Each landed document parsed into one company's rows of core.filings, core.filing_facts,
    core.filing_warnings and core.reported_measures, typed by the same SQL and written as Parquet
    (filings_parquet/<table>/cik=##########.parquet, stored like staging/companyfacts), with the
    company's profile from its submissions feed (core.filer_profiles); a document
    that cannot be read is recorded, never stops the rest. Writes nothing shared, so partitions
    run in parallel."""
    company = company_for(context.partition_key, sec)
    listing = sec.raw_store().read_listing(manifest_name(company.cik))
    entries = json.loads(listing) if listing else []
    filings, frames, problems, measures = [], [], [], []
    for entry in entries:
        filing, frame, document_problems, document_measures = _read_document(entry, company.cik, sec.raw_store())
        filings.append(filing)
        frames += [] if frame is None else [frame]
        problems += document_problems
        measures += document_measures
    incoming = {
        "core/filing_facts": ("incoming_filing_facts", frames),
        "core/filings": ("incoming_filings", [pd.DataFrame.from_records(filings, columns=FILING_COLUMNS)]),
        "core/filing_warnings": ("incoming_warnings", [pd.DataFrame.from_records(problems, columns=WARNING_COLUMNS)]),
        "core/reported_measures": ("incoming_measures", [pd.DataFrame.from_records(measures, columns=MEASURE_COLUMNS)]),
    }
    conn = warehouse.synchronous_writes(duckdb.connect())  # typed by the warehouse's own table definitions, in memory
    conn.execute("create schema core")
    warehouse.run_sql(conn, "core/filing_tables__create")
    for statement, (view, parts) in incoming.items():
        for frame in parts:
            conn.register(view, frame)
            warehouse.run_sql(conn, statement)
            conn.unregister(view)
    store = sec.settings().partition_store("filings_parquet")
    for table in FILING_TABLES:
        with store.writing(f"{table}/cik={company.cik}.parquet") as local_file:
            conn.table(f"core.{table}").write_parquet(str(local_file))
    conn.close()
    feed = sec.stored_feed(company.cik)
    filer_profiles.write_company(store, company.cik, filer_profiles.from_feed(feed, "submissions feed") if feed else None)
    parsed_count = sum(1 for f in filings if f[FILING_COLUMNS.index("status")] == "parsed")
    return dg.MaterializeResult(metadata={
        "cik": company.cik, "filings": len(filings), "parsed": parsed_count, "failed": len(filings) - parsed_count,
        "dagster/row_count": sum(len(f) for f in frames), "warnings": len(problems), "reported_measures": len(measures),
    })
