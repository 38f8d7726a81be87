"""The edgartools side of benchmarks/bulk_ingest.py: the same archive, the same question.

Runs in its own virtual environment (edgartools is not a capexwatch dependency), so it imports
nothing from the project. For every company of the archive: parse its companyfacts with
edgartools, build the quarterly income and cash-flow statements, and keep the revenue, capex and
operating-cash-flow rows: the series capexwatch's marts.quarterly holds.

    python benchmarks/edgartools_quarterly.py ARCHIVE WORKERS [CIK]
prints one JSON line: seconds, companies, values, and the named company's series.
"""

import json
import sys
import time
import warnings
import zipfile
from concurrent.futures import ProcessPoolExecutor

CONCEPTS = {
    "revenue": ("RevenueFromContractWithCustomerExcludingAssessedTax", "Revenues"),
    "capex": ("PaymentsToAcquirePropertyPlantAndEquipment", "PaymentsToAcquireProductiveAssets"),
    "ocf": ("NetCashProvidedByUsedInOperatingActivities",),
}
PERIODS = 80  # twenty years of quarters: everything companyfacts holds


def series(statements: list, concepts: tuple[str, ...]) -> dict[str, float]:
    """The first of the concepts found, period label -> value."""
    for statement in statements:
        for concept in concepts:
            if concept in statement.index:
                row = statement.loc[concept]
                row = row.iloc[0] if row.ndim > 1 else row
                return {column: float(row[column]) for column in statement.columns
                        if column.startswith(("Q", "FY")) and row[column] == row[column]}
    return {}


def company(archive: str, name: str) -> dict[str, dict[str, float]]:
    from edgar.entity.parser import EntityFactsParser

    with zipfile.ZipFile(archive) as bundle:
        facts = EntityFactsParser.parse_company_facts(json.loads(bundle.read(name)))
    statements = [facts.income_statement(periods=PERIODS, period="quarterly", as_dataframe=True),
                  facts.cash_flow_statement(periods=PERIODS, period="quarterly", as_dataframe=True)]
    return {metric: series(statements, concepts) for metric, concepts in CONCEPTS.items()}


def chunk(archive: str, names: list[str]) -> list[tuple[str, dict]]:
    warnings.simplefilter("ignore")
    return [(name, company(archive, name)) for name in names]


def main() -> None:
    archive, workers = sys.argv[1], int(sys.argv[2])
    wanted = f"CIK{sys.argv[3]}.json" if len(sys.argv) > 3 else None
    with zipfile.ZipFile(archive) as bundle:
        names = [info.filename for info in bundle.infolist()]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = [item for part in pool.map(chunk, [archive] * workers, [names[i::workers] for i in range(workers)])
                   for item in part]
    seconds = time.perf_counter() - start
    values = sum(len(points) for _, metrics in results for points in metrics.values())
    sample = next((metrics for name, metrics in results if name == wanted), None)
    print(json.dumps({"seconds": seconds, "companies": len(results), "values": values, "sample": sample}))


if __name__ == "__main__":
    main()
