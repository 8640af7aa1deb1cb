"""Sustained load through the real broker: throughput, end-to-end latency, memory and loss.

Run: ``python bench/bench_load.py [--rate 200] [--duration 300] [--ramp|--no-ramp] [--short]``.

It starts a local broker on free ports in a temporary folder (unless ``KAFKA_BOOTSTRAP`` is
set), then one worker (``python -m streams worker``) on a topic prefix and app id of its own,
and pushes a steady stream of articles at ``--rate`` for ``--duration`` seconds with a
rate-controlled producer: English and Arabic incident reports generated from templates (76
cities in 70 regions, 8 weapons, casualties, claims; each incident told by one to three
outlets) with distinct ids and ``published_at`` = now so the alert rules fire, the seed
articles under fresh ids, and a few malformed messages that must reach the dead-letter topic.

Then, with ``--ramp``, a fresh worker (empty state) takes a ramp: ``--ramp-start`` articles/s,
``+--ramp-step`` every ``--ramp-interval`` seconds, until a step is not sustained (a backlog,
of articles to extract or of incidents to corroborate, grows by more than one second of
input or ends above two). The highest sustained step is the maximum sustained rate of one
worker; the processing rate in the first step it could not sustain is its capacity.

Figures (printed, never asserted): articles/s offered and processed, backlog; latency
p50/p99 article produced -> incident and -> alert, measured by a consumer reading
``incidents`` and ``alerts`` (read_committed, as any subscriber) and from the worker's own
``/metrics`` histograms; worker CPU (cores), the share spent in extraction
(``extraction_seconds`` sum per second), broker and load-generator CPU, everything else on
the machine; worker resident memory (peak); loss (pushed articles the worker did not account
for, extracted incidents missing from ``incidents``, dead letters missing). The worker, the
broker and this load generator share one machine: on 2 cores their CPU competes.

``--profile-seconds N`` samples the worker with py-spy (if on PATH, or ``$PY_SPY``) for N
seconds in the middle of the steady phase and prints where its time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# ---------------------------------------------------------------------------------------------
# Articles
# ---------------------------------------------------------------------------------------------

# (English, Arabic, region both resolve to): checked against the extractor, one region each.
CITIES = [
    ("Baghdad", "بغداد", "IQ.07"), ("Mosul", "الموصل", "IQ.15"), ("Kirkuk", "كركوك", "IQ.13"),
    ("Tikrit", "تكريت", "IQ.18"), ("Ramadi", "الرمادي", "IQ.01"),
    ("Fallujah", "الفلوجة", "IQ.01"), ("Basra", "البصرة", "IQ.02"), ("Erbil", "أربيل", "IQ.11"),
    ("Najaf", "النجف", "IQ.17"), ("Karbala", "كربلاء", "IQ.12"), ("Baqubah", "بعقوبة", "IQ.10"),
    ("Samarra", "سامراء", "IQ.18"), ("Hillah", "الحلة", "IQ.06"),
    ("Nasiriyah", "الناصرية", "IQ.09"), ("Kut", "الكوت", "IQ.16"),
    ("Diwaniyah", "الديوانية", "IQ.04"), ("Sulaymaniyah", "السليمانية", "IQ.05"),
    ("Duhok", "دهوك", "IQ.08"), ("Samawah", "السماوة", "IQ.03"), ("Aleppo", "حلب", "SY.09"),
    ("Damascus", "دمشق", "SY.13"), ("Homs", "حمص", "SY.11"), ("Hama", "حماة", "SY.10"),
    ("Idlib", "إدلب", "SY.12"), ("Raqqa", "الرقة", "SY.04"),
    ("Deir ez-Zor", "دير الزور", "SY.07"), ("Hasakah", "الحسكة", "SY.01"),
    ("Daraa", "درعا", "SY.06"), ("Latakia", "اللاذقية", "SY.02"), ("Tartus", "طرطوس", "SY.14"),
    ("Qamishli", "القامشلي", "SY.01"), ("Suwayda", "السويداء", "SY.05"),
    ("Sanaa", "صنعاء", "YE.26"), ("Aden", "عدن", "YE.02"), ("Taiz", "تعز", "YE.25"),
    ("Hodeidah", "الحديدة", "YE.08"), ("Marib", "مأرب", "YE.14"), ("Mukalla", "المكلا", "YE.04"),
    ("Saada", "صعدة", "YE.15"), ("Dhamar", "ذمار", "YE.11"), ("Beirut", "بيروت", "LB.04"),
    ("Sidon", "صيدا", "LB.06"), ("Baalbek", "بعلبك", "LB.11"), ("Nabatieh", "النبطية", "LB.07"),
    ("Benghazi", "بنغازي", "LY.69"), ("Misrata", "مصراتة", "LY.72"), ("Sirte", "سرت", "LY.76"),
    ("Derna", "درنة", "LY.70"), ("Sabha", "سبها", "LY.75"), ("Kabul", "كابول", "AF.13"),
    ("Kandahar", "قندهار", "AF.23"), ("Herat", "هرات", "AF.11"),
    ("Jalalabad", "جلال آباد", "AF.18"), ("Kunduz", "قندوز", "AF.24"),
    ("Mogadishu", "مقديشو", "SO.02"), ("Baidoa", "بيدوا", "SO.04"),
    ("Peshawar", "بيشاور", "PK.03"), ("Karachi", "كراتشي", "PK.05"), ("Arish", "العريش", "EG.27"),
    ("Maiduguri", "مايدوغوري", "NG.27"), ("Gao", "غاو", "ML.09"), ("Timbuktu", "تمبكتو", "ML.08"),
    ("El Fasher", "الفاشر", "SD.55"), ("Nyala", "نيالا", "SD.49"), ("Gaza", "غزة", "PS.GZ"),
    ("Jenin", "جنين", "PS.WE"), ("Nablus", "نابلس", "PS.WE"), ("Hebron", "الخليل", "PS.WE"),
    ("Khan Younis", "خان يونس", "PS.GZ"), ("Jizan", "جازان", "SA.17"),
    ("Najran", "نجران", "SA.16"), ("Irbid", "إربد", "JO.18"), ("Sanandaj", "سنندج", "IR.16"),
    ("Ahvaz", "الأهواز", "IR.15"), ("Diyarbakir", "ديار بكر", "TR.21"),
    ("Gaziantep", "غازي عنتاب", "TR.83"),
]  # fmt: skip
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_AR = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")
ACTORS = [
    ("Islamic State", "تنظيم داعش"),
    ("al-Shabaab", "حركة الشباب"),
    ("the Houthis", "الحوثيون"),
    ("the Taliban", "حركة طالبان"),
    ("Boko Haram", "جماعة بوكو حرام"),
    ("Hayat Tahrir al-Sham", "هيئة تحرير الشام"),
]
OUTLETS = ("Reuters", "AFP", "AP", "Al Jazeera", "Al Arabiya", "Asharq Al-Awsat", "Rudaw",
           "Shafaq News", "Elaph", "BBC Arabic")  # fmt: skip
SAYERS_EN = ("police said", "a security source said", "officials said",
             "the interior ministry said", "witnesses said")  # fmt: skip
SAYERS_AR = ("بحسب الشرطة", "وفق مصدر أمني", "بحسب مسؤولين محليين", "وفق وزارة الداخلية",
             "بحسب شهود عيان")  # fmt: skip
LEAD_EN = {
    "rocket": "{q} rockets struck {city} {day}, killing {k} people and wounding {w}, {say}.",
    "mortar": "{q} mortar shells hit a residential area of {city} {day}, killing {k} civilians "
    "and wounding {w}, {say}.",
    "drone": "A drone strike hit a vehicle near {city} {day}, killing {k} fighters, {say}.",
    "vehicle_bomb": "A car bomb exploded in a crowded market in {city} {day}, killing {k} "
    "people and wounding {w}, {say}.",
    "ied": "A roadside bomb struck a military convoy near {city} {day}, killing {k} soldiers "
    "and wounding {w}, {say}.",
    "suicide_bomb": "A suicide bomber blew himself up at a checkpoint in {city} {day}, killing "
    "{k} people and wounding {w}, {say}.",
    "firearm": "Gunmen opened fire on a police patrol in {city} {day}, killing {k} policemen "
    "and wounding {w}, {say}.",
    "airstrike": "Airstrikes hit positions on the outskirts of {city} {day}, killing {k} "
    "fighters, {say}.",
    "embassy": "{q} rockets landed near the embassy in {city} {day}, wounding {w} guards, {say}.",
}
LEAD_AR = {
    "rocket": "سقطت {q} صواريخ على {city} {day}، ما أدى إلى مقتل {k} أشخاص وإصابة {w} آخرين، "
    "{say}.",
    "mortar": "سقطت {q} قذائف هاون على حي سكني في {city} {day}، ما أسفر عن مقتل {k} مدنيين "
    "وإصابة {w} آخرين، {say}.",
    "drone": "استهدفت طائرة مسيرة سيارة قرب {city} {day}، ما أدى إلى مقتل {k} مسلحين، {say}.",
    "vehicle_bomb": "انفجرت سيارة مفخخة في سوق مزدحم في {city} {day}، ما أسفر عن مقتل {k} "
    "أشخاص وإصابة {w} آخرين، {say}.",
    "ied": "انفجرت عبوة ناسفة بدورية عسكرية قرب {city} {day}، ما أدى إلى مقتل {k} جنود "
    "وإصابة {w} آخرين، {say}.",
    "suicide_bomb": "فجر انتحاري نفسه عند نقطة تفتيش في {city} {day}، ما أسفر عن مقتل {k} "
    "أشخاص وإصابة {w} آخرين، {say}.",
    "firearm": "فتح مسلحون النار على دورية للشرطة في {city} {day}، ما أدى إلى مقتل {k} من "
    "عناصر الشرطة وإصابة {w} آخرين، {say}.",
    "airstrike": "استهدفت غارات جوية مواقع في أطراف {city} {day}، ما أدى إلى مقتل {k} مسلحين، "
    "{say}.",
    "embassy": "سقطت {q} صواريخ قرب السفارة في {city} {day}، ما أدى إلى إصابة {w} من الحراس، "
    "{say}.",
}
CLAIM_EN = "{actor} claimed responsibility for the attack in a statement."
CLAIM_AR = "وتبنى {actor} الهجوم في بيان."
FILLER_EN = (
    "Security forces cordoned off the area and ambulances took the wounded to hospital.",
    "The government condemned the violence and ordered an investigation.",
    "Residents said the area had been calm for several weeks before the incident.",
    "Local officials called on the authorities to reinforce security in the province.",
    "The United Nations urged all parties to protect civilians and respect humanitarian law.",
    "Traffic was suspended on the main road for several hours.",
)
FILLER_AR = (
    "وفرضت القوات الأمنية طوقا على المنطقة ونقلت سيارات الإسعاف الجرحى إلى المستشفى.",
    "وأدانت الحكومة أعمال العنف وأمرت بفتح تحقيق.",
    "وقال سكان إن المنطقة كانت هادئة منذ عدة أسابيع.",
    "ودعا مسؤولون محليون السلطات إلى تعزيز الأمن في المحافظة.",
    "وحثت الأمم المتحدة جميع الأطراف على حماية المدنيين واحترام القانون الإنساني.",
    "وتوقفت حركة السير على الطريق الرئيسي لعدة ساعات.",
)
WEAPONS = ("rocket", "mortar", "drone", "vehicle_bomb", "ied", "suicide_bomb", "firearm",
           "airstrike")  # fmt: skip
# Each figure is more than 3x the one before plus 2: two incidents never merge on quantity.
QUANTITIES = (2, 7, 25, 80)
INVALID = (b'{"id": "broken", "body": ', b"\xff\xfe not utf-8", b'{"id": "no-body"}', b"[1, 2]")


@dataclass(frozen=True)
class Spec:
    """One incident, which one to three outlets report."""

    city: tuple[str, str, str]
    back: int  # days before publication
    weapon: str
    quantity: int
    killed: int
    wounded: int
    actor: tuple[str, str] | None


@dataclass(frozen=True)
class Message:
    """One message pushed: its id (None for malformed input), key, value, whether valid."""

    article_id: str
    key: bytes
    value: bytes
    valid: bool


def day_phrase(lang: str, published: datetime, back: int, variant: int) -> str:
    """How a report dates its event: today, yesterday, on Monday / اليوم، أمس، يوم الاثنين."""
    weekday = (published - timedelta(days=back)).weekday()
    if lang == "en":
        if back == 0:
            return "today" if variant else "earlier today"
        return "yesterday" if back == 1 and variant else f"on {WEEKDAYS_EN[weekday]}"
    if back == 0:
        return "اليوم"
    return "أمس" if back == 1 and variant else f"يوم {WEEKDAYS_AR[weekday]}"


def render(spec: Spec, lang: str, published: datetime, rng: random.Random) -> str:
    """An article body: the lead sentence, maybe a claim, then two to five neutral sentences."""
    en = lang == "en"
    lead = (LEAD_EN if en else LEAD_AR)[spec.weapon].format(
        q=spec.quantity,
        city=spec.city[0 if en else 1],
        day=day_phrase(lang, published, spec.back, rng.randrange(2)),
        k=spec.killed,
        w=spec.wounded,
        say=rng.choice(SAYERS_EN if en else SAYERS_AR),
    )
    rest = []
    if spec.actor is not None:
        rest.append((CLAIM_EN if en else CLAIM_AR).format(actor=spec.actor[0 if en else 1]))
    rest += rng.sample(FILLER_EN if en else FILLER_AR, rng.randint(2, 5))
    return lead + "\n\n" + " ".join(rest)


class ArticleFactory:
    """Realistic articles, each with a distinct id and ``published_at`` = the moment it is made.

    About 5% are the seed articles (long Arabic news) under fresh ids; every ``invalid_every``-th
    message is malformed (the worker must dead-letter it). The rest are generated incident
    reports; an incident is reported again by another outlet (other language, other wording)
    a little later with probability 0.4, a third time with 0.1, as corroborating reports are.
    """

    def __init__(
        self, seed: int = 7, invalid_every: int = 500, seed_share: float = 0.05, tag: str = ""
    ) -> None:
        self.rng = random.Random(seed)
        self.invalid_every = invalid_every
        self.seed_share = seed_share
        self.tag = tag or uuid.uuid4().hex[:6]
        self.count = 0
        self.seeds = [orjson.loads(p.read_bytes()) for p in sorted((ROOT / "seeds").glob("*.json"))]
        self._later: list[tuple[int, Spec]] = []  # (due message number, spec) follow-up reports

    def _spec(self) -> Spec:
        rng = self.rng
        weapon = "embassy" if rng.random() < 0.01 else rng.choice(WEAPONS)
        return Spec(
            city=rng.choice(CITIES),
            back=rng.randrange(7),
            weapon=weapon,
            quantity=rng.choice(QUANTITIES),
            killed=rng.randrange(1, 15),
            wounded=rng.randrange(1, 40),
            actor=rng.choice(ACTORS) if rng.random() < 0.4 else None,
        )

    def next(self, now: datetime | None = None) -> Message:
        """The next message, dated ``now`` (default: the wall clock)."""
        self.count += 1
        n = self.count
        rng = self.rng
        published = now or datetime.now(UTC)
        article_id = f"load-{self.tag}-{n:07d}"
        if self.invalid_every and n % self.invalid_every == 0:
            return Message(article_id, article_id.encode(), INVALID[n % len(INVALID)], False)
        stamp = published.strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.seeds and rng.random() < self.seed_share:
            article = {**rng.choice(self.seeds), "id": article_id, "published_at": stamp}
            article.pop("published_at_note", None)
        else:
            if self._later and self._later[0][0] <= n:
                spec = self._later.pop(0)[1]
            else:
                spec = self._spec()
                for again in (0.4, 0.1):
                    if rng.random() < again:
                        self._later.append((n + rng.randint(5, 200), spec))
                self._later.sort(key=lambda item: item[0])
            lang = rng.choice(("en", "ar"))
            article = {
                "id": article_id,
                "title": None,
                "body": render(spec, lang, published, rng),
                "published_at": stamp,
                "source": rng.choice(OUTLETS),
                "language": lang,
            }
        return Message(article_id, article_id.encode(), orjson.dumps(article), True)


# ---------------------------------------------------------------------------------------------
# Processes: broker, worker, /proc
# ---------------------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free right now."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


@contextlib.contextmanager
def kafka_cluster(log: Callable[[str], None] = print) -> Iterator[tuple[str, int | None]]:
    """``(bootstrap, broker pid)``: KAFKA_BOOTSTRAP as is, else a local broker of our own."""
    if os.environ.get("KAFKA_BOOTSTRAP"):
        yield os.environ["KAFKA_BOOTSTRAP"], None
        return
    from streams.broker import BrokerConfig, start, stop

    port, controller = free_ports(2)
    folder = Path(tempfile.mkdtemp(prefix="bench-kafka-"))
    cfg = BrokerConfig(port=port, controller_port=controller, data_dir=folder)
    began = time.monotonic()
    status = start(cfg, timeout=180.0)
    log(f"broker: started on {cfg.bootstrap} in {time.monotonic() - began:.1f} s")
    try:
        yield cfg.bootstrap, status.pid
    finally:
        stop(cfg)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Target:
    """A running worker: where its topics are and how to watch it."""

    bootstrap: str
    prefix: str
    metrics_url: str
    pid: int
    broker_pid: int | None = None

    def topic(self, name: str) -> str:
        return self.prefix + name

    def scrape(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=10) as resp:
            return str(resp.read().decode("utf-8"))


class WorkerProcess:
    """``python -m streams worker`` on its own topic prefix, app id, web port and folder."""

    def __init__(
        self,
        bootstrap: str,
        folder: Path,
        *,
        tick_seconds: str = "5",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.prefix = f"bench{uuid.uuid4().hex[:8]}."
        self.port = free_ports(1)[0]
        self.folder = folder
        self.log_path = folder / "worker.log"
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP": bootstrap,
            "INCIDENT_TOPIC_PREFIX": self.prefix,
            "INCIDENT_APP_ID": f"{self.prefix}incident-monitor",
            "INCIDENT_WEB_PORT": str(self.port),
            "INCIDENT_VAR_DIR": str(folder),
            "INCIDENT_TICK_SECONDS": tick_seconds,
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
            **(extra_env or {}),
        }
        self.bootstrap = bootstrap
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> None:
        """Launch (returns at once; see :meth:`wait_metrics`)."""
        with open(self.log_path, "ab") as log:
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streams", "worker", "--loglevel", "warn"],
                env=self.env,
                cwd=self.folder,  # Faust puts its data folder in the working directory
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def wait_metrics(self, timeout_s: float = 120.0, poll_s: float = 0.05) -> float:
        """Seconds from launch until ``/metrics`` answers."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(self.metrics_url, timeout=5) as resp:
                    resp.read()
                return time.monotonic() - self.started_at
            except OSError as exc:
                assert self.proc is not None
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    tail = self.log_path.read_text(errors="replace")[-3000:]
                    self.stop()
                    raise RuntimeError(
                        f"worker did not start; log {self.log_path}:\n{tail}"
                    ) from exc
                time.sleep(poll_s)

    def target(self, broker_pid: int | None) -> Target:
        assert self.proc is not None
        return Target(self.bootstrap, self.prefix, self.metrics_url, self.proc.pid, broker_pid)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the worker and its extraction process)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in task.read_text().split()]
            except OSError:
                continue
    return found


def stat_cpu_seconds(stat: str) -> float:
    """User + system CPU seconds in a /proc ``stat`` file (a process's or a thread's); NaN."""
    try:
        text = Path(stat).read_text()
    except OSError:
        return float("nan")
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process and its children (Linux /proc); NaN when unknown."""
    if pid is None:
        return float("nan")
    total = 0.0
    for member in process_tree(pid):
        seconds = stat_cpu_seconds(f"/proc/{member}/stat")
        if seconds != seconds:  # gone
            if member == pid:
                return seconds
            continue
        total += seconds
    return total


def own_cpu_seconds(pid: int | None, *, main_thread: bool = False) -> float:
    """CPU seconds of a process alone (no children), or of its main thread only; NaN."""
    if pid is None:
        return float("nan")
    return stat_cpu_seconds(f"/proc/{pid}/task/{pid}/stat" if main_thread else f"/proc/{pid}/stat")


def proc_memory_mb(pid: int | None) -> tuple[float, float]:
    """(VmRSS, VmHWM = peak resident) in MB, summed over a process and its children.

    NaN when unknown. The summed peak is an upper bound: the processes' peaks need not coincide.
    """
    if pid is None:
        return float("nan"), float("nan")
    rss: list[float] = []
    hwm: list[float] = []
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        rss.append(int(line.split()[1]) / 1024)
                    elif line.startswith("VmHWM:"):
                        hwm.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return (sum(rss) if rss else float("nan")), (sum(hwm) if hwm else float("nan"))


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


# ---------------------------------------------------------------------------------------------
# The worker's /metrics
# ---------------------------------------------------------------------------------------------

HIST_INCIDENT = "incident_monitor_article_to_incident_seconds"
HIST_ALERT = "incident_monitor_article_to_alert_seconds"
HIST_PAUSE = "incident_monitor_commit_pause_seconds"
HIST_PHASE = "incident_monitor_commit_phase_seconds"
PHASES = ("changelogs", "flush", "transaction")
HIST_EXTRACT = "incident_monitor_extraction_seconds"
LATENCY_TOP = 60.0  # the last finite bucket of the latency histograms (streams/metrics.py)
PAUSE_TOP = 20.0  # and of the commit pause histogram


@dataclass
class Scrape:
    """The figures of one ``/metrics`` scrape this bench needs."""

    totals: dict[str, float]  # metric name (labels summed) -> value
    buckets: dict[str, list[tuple[float, float]]]  # histogram -> [(le, cumulative count)]
    phases: dict[str, float] = field(default_factory=dict)  # commit phase -> seconds in all

    def get(self, name: str) -> float:
        return self.totals.get(name, 0.0)

    @property
    def processed(self) -> float:
        """Input messages the worker has finished with: consumed, or dead-lettered at parse."""
        return (
            self.get("incident_monitor_articles_consumed_total")
            + self.get("incident_monitor_articles_rejected_total")
            - self.get("incident_monitor_extraction_errors_total")
        )


def parse_metrics(text: str) -> Scrape:
    """Sum every sample by metric name; keep the histogram buckets of the three histograms."""
    totals: dict[str, float] = defaultdict(float)
    buckets: dict[str, dict[float, float]] = defaultdict(dict)
    phases: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        try:
            number = float(value)
        except ValueError:
            continue
        totals[name] += number
        if name == f"{HIST_PHASE}_sum" and 'phase="' in labels:
            phases[labels.split('phase="', 1)[1].split('"', 1)[0]] = number
        if name.endswith("_bucket") and 'le="' in labels:
            le = labels.split('le="', 1)[1].split('"', 1)[0]
            buckets[name[: -len("_bucket")]][float(le)] = number
    return Scrape(dict(totals), {k: sorted(v.items()) for k, v in buckets.items()}, phases)


def hist_quantile(q: float, before: Scrape | None, after: Scrape, name: str) -> float:
    """Prometheus' histogram_quantile over the observations between two scrapes."""
    now = dict(after.buckets.get(name, []))
    then = dict(before.buckets.get(name, [])) if before else {}
    cumulative = [(le, now[le] - then.get(le, 0.0)) for le in sorted(now)]
    if not cumulative or cumulative[-1][1] <= 0:
        return float("nan")
    rank = q * cumulative[-1][1]
    lower_le, lower_count = 0.0, 0.0
    for le, count in cumulative:
        if count >= rank:
            if le == float("inf"):
                return float("inf")  # beyond the last finite bucket (60 s)
            span = count - lower_count
            return lower_le + (le - lower_le) * ((rank - lower_count) / span if span else 1.0)
        lower_le, lower_count = le, count
    return float("nan")


# ---------------------------------------------------------------------------------------------
# Watching: samples over time, and the output topics
# ---------------------------------------------------------------------------------------------


@dataclass
class Sample:
    """One look at everything, ``t`` on the monotonic clock."""

    t: float
    scrape: Scrape
    acked: int
    sent: int
    worker_cpu: float
    loop_cpu: float  # the worker's main thread: its event loop
    worker_own_cpu: float  # the worker process without its children (extraction)
    worker_rss: float
    worker_hwm: float
    broker_cpu: float
    broker_rss: float
    self_cpu: float
    machine_busy: float
    machine_total: float
    published: int  # extracted incidents seen in `sources` on `incidents` so far (the reader)

    @property
    def input_backlog(self) -> float:
        """Articles acknowledged by the broker that the worker has not finished with."""
        return self.acked - self.scrape.processed

    @property
    def report_backlog(self) -> float:
        """Incidents extracted (sent on to corroboration) that no `incidents` record names yet."""
        return self.scrape.get("incident_monitor_incidents_total") - self.published


class Watcher(threading.Thread):
    """Samples /metrics, /proc and the producer's counters every ``every`` seconds."""

    def __init__(
        self, target: Target, producer: Pusher, reader: Reader, every: float = 2.0
    ) -> None:
        super().__init__(daemon=True, name="watcher")
        self.target = target
        self.producer = producer
        self.reader = reader
        self.every = every
        self.samples: list[Sample] = []
        self.stopping = threading.Event()
        self.errors = 0

    def sample(self) -> Sample | None:
        try:
            scrape = parse_metrics(self.target.scrape())
        except OSError:
            self.errors += 1
            return None
        rss, hwm = proc_memory_mb(self.target.pid)
        broker_rss, _ = proc_memory_mb(self.target.broker_pid)
        busy, total = machine_cpu()
        times = os.times()
        published = len(self.reader.out.incident_ids)  # read before the scrape's figures age
        s = Sample(
            t=time.monotonic(),
            scrape=scrape,
            acked=self.producer.acked,
            sent=self.producer.sent,
            worker_cpu=proc_cpu_seconds(self.target.pid),
            loop_cpu=own_cpu_seconds(self.target.pid, main_thread=True),
            worker_own_cpu=own_cpu_seconds(self.target.pid),
            worker_rss=rss,
            worker_hwm=hwm,
            broker_cpu=proc_cpu_seconds(self.target.broker_pid),
            broker_rss=broker_rss,
            self_cpu=times.user + times.system,
            machine_busy=busy,
            machine_total=total,
            published=published,
        )
        self.samples.append(s)
        return s

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            self.sample()

    def at(self, t: float) -> Sample | None:
        """The last sample taken at or before ``t``."""
        found = None
        for s in self.samples:
            if s.t > t:
                break
            found = s
        return found


@dataclass
class Outputs:
    """What a subscriber saw on the output topics (wall-clock receive times, epoch seconds)."""

    first_incident: dict[str, tuple[float, float]] = field(default_factory=dict)  # article id
    incident_ids: set[str] = field(default_factory=set)  # every source incident id seen
    clusters: dict[str, int] = field(default_factory=dict)  # cluster id -> highest revision
    revisions: set[tuple[str, int]] = field(default_factory=set)  # (cluster id, revision)
    incident_records: int = 0
    incident_bytes: int = 0
    alerts: list[tuple[float, float, str, int, float | None]] = field(default_factory=list)
    alert_bytes: int = 0
    dead_letters: list[tuple[float, str | None, str]] = field(default_factory=list)
    late: int = 0
    errors: int = 0


class Reader(threading.Thread):
    """Reads ``incidents``, ``alerts``, ``articles.dlq``, ``incidents.late`` from their start."""

    def __init__(self, target: Target) -> None:
        super().__init__(daemon=True, name="reader")
        self.target = target
        self.out = Outputs()
        self.stopping = threading.Event()
        self.last_record = time.monotonic()
        self.ready = threading.Event()

    def run(self) -> None:
        from kafka import KafkaConsumer, TopicPartition

        from streams.broker import client_security_kwargs

        names = {self.target.topic(n): n for n in ("incidents", "alerts", "articles.dlq")}
        names[self.target.topic("incidents.late")] = "late"
        consumer = KafkaConsumer(
            bootstrap_servers=self.target.bootstrap.split(","),
            enable_auto_commit=False,
            isolation_level="read_committed",
            fetch_max_wait_ms=50,
            **client_security_kwargs(),
        )
        assigned: set[TopicPartition] = set()
        looked = 0.0
        try:
            while not self.stopping.is_set():
                if len({tp.topic for tp in assigned}) < len(names) and (
                    time.monotonic() - looked > 1.0
                ):
                    # The worker creates an output topic when it first sends to it.
                    looked = time.monotonic()
                    consumer.topics()  # refreshes the metadata
                    found = {
                        TopicPartition(topic, p)
                        for topic in names
                        for p in consumer.partitions_for_topic(topic) or ()
                    }
                    if found - assigned:
                        consumer.assign(sorted(found | assigned))
                        consumer.seek_to_beginning(*sorted(found - assigned))
                        assigned |= found
                self.ready.set()
                if not assigned:
                    time.sleep(0.2)
                    continue
                batch = consumer.poll(timeout_ms=100)
                seen = time.time()
                for records in batch.values():
                    for r in records:
                        self.last_record = time.monotonic()
                        self._take(names[r.topic], seen, r.timestamp / 1000.0, r.key, r.value)
        finally:
            self.ready.set()
            consumer.close()

    def _take(self, kind: str, seen: float, stamp: float, key: bytes | None, raw: bytes) -> None:
        out = self.out
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            out.errors += 1
            return
        if kind == "incidents":
            out.incident_records += 1
            out.incident_bytes += len(raw)
            cluster = value.get("cluster_id") or value["incident_id"]
            out.clusters[cluster] = max(out.clusters.get(cluster, 0), int(value["revision"]))
            out.revisions.add((cluster, int(value["revision"])))
            for source in value.get("sources") or []:
                out.incident_ids.add(source["incident_id"])
                out.first_incident.setdefault(source["article_id"], (seen, stamp))
        elif kind == "alerts":
            produced = value.get("produced_at")
            at = _epoch(produced) if produced else None
            out.alerts.append((seen, stamp, value["alert_id"], int(value["revision"]), at))
            out.alert_bytes += len(raw)
        elif kind == "articles.dlq":
            letter_key = key.decode("utf-8", "replace") if key is not None else None
            out.dead_letters.append((seen, letter_key, value.get("reason", "")))
        else:
            out.late += 1


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ---------------------------------------------------------------------------------------------
# Pushing
# ---------------------------------------------------------------------------------------------


@dataclass
class Step:
    """Offer ``rate`` articles/s for ``seconds``."""

    rate: float
    seconds: float
    label: str = ""
    start: float = 0.0  # monotonic, filled in when run
    end: float = 0.0
    wall_start: float = 0.0  # epoch seconds
    wall_end: float = 0.0
    behind_max: float = 0.0  # how far the generator fell behind its schedule (s)
    sent: int = 0


class Pusher:
    """A rate-controlled producer (kafka-python, acks=all, as ``incident-monitor push``)."""

    def __init__(
        self, target: Target, factory: ArticleFactory, keep_messages: bool = False
    ) -> None:
        from kafka import KafkaProducer

        from streams.broker import client_security_kwargs

        self.topic = target.topic("articles")
        self.factory = factory
        self.producer = KafkaProducer(
            bootstrap_servers=target.bootstrap.split(","),
            acks="all",
            linger_ms=5,
            **client_security_kwargs(),
        )
        self.sent_at: dict[str, float] = {}  # article id -> epoch seconds when sent
        self.valid: set[str] = set()
        self.invalid: set[str] = set()
        self.messages: list[Message] | None = [] if keep_messages else None
        self._lock = threading.Lock()
        self.acked = 0
        self.acked_valid = 0
        self.acked_invalid = 0
        self.failed = 0
        self.sent = 0

    def _ok(self, valid: bool, _meta: object) -> None:
        with self._lock:
            self.acked += 1
            if valid:
                self.acked_valid += 1
            else:
                self.acked_invalid += 1

    def _fail(self, _exc: object) -> None:
        with self._lock:
            self.failed += 1

    def send_one(self) -> None:
        now = time.time()
        msg = self.factory.next(datetime.fromtimestamp(now, UTC))
        future = self.producer.send(
            self.topic, key=msg.key, value=msg.value, timestamp_ms=int(now * 1000)
        )
        future.add_callback(self._ok, msg.valid)
        future.add_errback(self._fail)
        self.sent_at[msg.article_id] = int(now * 1000) / 1000.0  # what the worker reads back
        (self.valid if msg.valid else self.invalid).add(msg.article_id)
        if self.messages is not None:
            self.messages.append(msg)
        self.sent += 1

    def run_step(self, step: Step) -> None:
        """Send ``rate`` messages per second for ``seconds``, on schedule (catching up)."""
        total = round(step.rate * step.seconds)
        step.start, step.wall_start = time.monotonic(), time.time()
        n = 0
        while n < total:
            elapsed = time.monotonic() - step.start
            due = min(total, int(elapsed * step.rate) + 1)
            step.behind_max = max(step.behind_max, (due - n - 1) / step.rate)
            while n < due:
                self.send_one()
                n += 1
            pause = step.start + n / step.rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        step.sent = n
        step.end, step.wall_end = time.monotonic(), time.time()

    def flush(self) -> None:
        self.producer.flush(timeout=60)

    def close(self) -> None:
        self.producer.close(timeout=10)


# ---------------------------------------------------------------------------------------------
# A run: steps, drain, figures
# ---------------------------------------------------------------------------------------------


@dataclass
class LoadRun:
    """Everything one run of steps against one worker measured."""

    target: Target
    pusher: Pusher
    watcher: Watcher
    reader: Reader
    steps: list[Step] = field(default_factory=list)
    drained: bool = False
    drain_seconds: float = 0.0
    final: Sample | None = None


def start_run(target: Target, factory: ArticleFactory, keep_messages: bool = False) -> LoadRun:
    """Connect the producer, the watcher and the output reader (waits for the reader)."""
    pusher = Pusher(target, factory, keep_messages)
    reader = Reader(target)
    watcher = Watcher(target, pusher, reader)
    reader.start()
    reader.ready.wait(90)
    watcher.sample()
    watcher.start()
    return LoadRun(target, pusher, watcher, reader)


def warm_up(run: LoadRun, timeout_s: float = 180.0) -> float:
    """Send one article and wait until the worker has published its incident; seconds taken.

    A new worker joins its group, creates its output topics and loads its lexicons lazily:
    the steady state is measured after that.
    """
    began = time.monotonic()
    run.pusher.send_one()
    run.pusher.flush()
    while time.monotonic() - began < timeout_s:
        s = run.watcher.sample()
        if (
            s is not None
            and s.acked > 0
            and s.scrape.processed >= s.acked
            and run.reader.out.incident_records > 0
        ):
            break
        time.sleep(0.2)
    return time.monotonic() - began


def sustained(run: LoadRun, step: Step) -> tuple[bool, str]:
    """Whether the worker kept up with ``step``: neither of its two backlogs kept growing.

    Two stages, two backlogs: articles not yet extracted, and extracted incidents not yet
    corroborated and published. Each may grow by one second of input over the step and end
    below two: internal hops wait for a transaction commit (``INCIDENT_COMMIT_INTERVAL``), so
    a stage that keeps up still holds some input now and then. (Three and five seconds let
    through ramp steps the worker fell behind on for good: 240-280/s, alert p99 2.4-9.9 s.)
    """
    first = run.watcher.at(step.start) or run.watcher.samples[0]
    last = run.watcher.at(step.end + 0.01) or run.watcher.samples[-1]
    grew_in = last.input_backlog - first.input_backlog
    grew_rep = last.report_backlog - first.report_backlog
    slack, limit = max(step.rate, 50.0), max(2 * step.rate, 100.0)
    ok = (
        grew_in <= slack
        and last.input_backlog <= limit
        and grew_rep <= slack
        and last.report_backlog <= limit
    )
    return ok, (
        f"backlog: articles {last.input_backlog:.0f} ({grew_in:+.0f}), incidents to "
        f"corroborate {last.report_backlog:.0f} ({grew_rep:+.0f})"
    )


def drain(run: LoadRun, timeout_s: float, log: Callable[[str], None] = print) -> None:
    """Wait until the worker has processed all it was sent and the outputs went quiet."""
    run.pusher.flush()
    began = time.monotonic()
    deadline = began + timeout_s
    last_report = began
    progress: tuple[float, int] | None = None
    moved = began
    while time.monotonic() < deadline:
        s = run.watcher.sample()
        if s is not None:
            quiet = time.monotonic() - run.reader.last_record
            if s.input_backlog <= 0 and s.report_backlog <= 0 and quiet > 4.0:
                run.drained = True
                break
            if (s.scrape.processed, s.published) != progress:
                progress, moved = (s.scrape.processed, s.published), time.monotonic()
            elif time.monotonic() - moved > 120:
                log("  draining: no progress for 120 s; giving up")
                break
            if time.monotonic() - last_report > 60:
                log(
                    f"  draining: {s.input_backlog:.0f} articles and {s.report_backlog:.0f} "
                    f"incidents to corroborate left"
                )
                last_report = time.monotonic()
        time.sleep(1.0)
    run.drain_seconds = time.monotonic() - began
    run.final = run.watcher.sample()


def stop_run(run: LoadRun) -> None:
    run.watcher.stopping.set()
    run.reader.stopping.set()
    run.watcher.join(5)
    run.reader.join(10)
    run.pusher.close()


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


@dataclass
class Latencies:
    """Seconds from an article's send to its incident / alert, as a subscriber sees them."""

    incident: list[float]  # received on `incidents` (visible to a read_committed consumer)
    incident_sent: list[float]  # the incident record's own timestamp (when the worker sent it)
    alert: list[float]
    alert_sent: list[float]


def latencies(run: LoadRun, wall_from: float, wall_to: float) -> Latencies:
    """Latencies of the articles sent in ``[wall_from, wall_to)`` (epoch seconds)."""
    out = run.reader.out
    incident, incident_sent = [], []
    for article_id, (seen, stamp) in list(out.first_incident.items()):
        sent = run.pusher.sent_at.get(article_id)
        if sent is not None and wall_from <= sent < wall_to:
            incident.append(seen - sent)
            incident_sent.append(stamp - sent)
    alert, alert_sent = [], []
    for seen, stamp, _aid, _rev, produced in list(out.alerts):
        if produced is not None and wall_from <= produced < wall_to:
            alert.append(seen - produced)
            alert_sent.append(stamp - produced)
    return Latencies(incident, incident_sent, alert, alert_sent)


@dataclass
class Usage:
    """Rates over an interval: articles/s, CPU cores, memory."""

    seconds: float
    offered: float
    processed: float
    extracted: float  # incidents/s sent on to corroboration
    corroborated: float  # incidents/s that reached `incidents`
    backlog_end: float
    report_backlog_end: float
    worker_cores: float
    loop_cores: float  # the worker's event-loop thread
    threads_cores: float  # the worker's other threads (Kafka consumer, extraction hand-off)
    child_cores: float  # the extraction process
    extraction_cores: float
    extraction_ms: float
    broker_cores: float
    generator_cores: float
    machine_cores: float
    other_cores: float
    worker_rss: float
    worker_peak: float
    p50_incident_metric: float
    p99_incident_metric: float
    p50_alert_metric: float
    p99_alert_metric: float
    commits: float  # commits/s
    phase_ms: dict[str, float]  # a commit's mean milliseconds in each phase
    paused: float  # share of the time the agents stood still for commits
    p50_pause: float
    p99_pause: float


def phase_means(a: Scrape, b: Scrape) -> dict[str, float]:
    """A commit's mean milliseconds in each phase between two scrapes (commits completed)."""
    # Each completed commit observes every phase once: the count is summed over them.
    commits = (b.get(f"{HIST_PHASE}_count") - a.get(f"{HIST_PHASE}_count")) / len(PHASES)
    return {
        phase: 1000 * (b.phases.get(phase, 0.0) - a.phases.get(phase, 0.0)) / max(1.0, commits)
        for phase in PHASES
    }


def usage(a: Sample, b: Sample) -> Usage:
    """What happened between samples ``a`` and ``b``."""
    dt = max(1e-9, b.t - a.t)
    ext_sum = b.scrape.get(f"{HIST_EXTRACT}_sum") - a.scrape.get(f"{HIST_EXTRACT}_sum")
    ext_n = b.scrape.get(f"{HIST_EXTRACT}_count") - a.scrape.get(f"{HIST_EXTRACT}_count")
    worker = (b.worker_cpu - a.worker_cpu) / dt
    broker = (b.broker_cpu - a.broker_cpu) / dt
    gen = (b.self_cpu - a.self_cpu) / dt
    cores = os.cpu_count() or 1
    total = b.machine_total - a.machine_total
    machine = (b.machine_busy - a.machine_busy) / total * cores if total > 0 else float("nan")
    known = worker + (broker if broker == broker else 0.0) + gen
    return Usage(
        seconds=dt,
        offered=(b.acked - a.acked) / dt,
        processed=(b.scrape.processed - a.scrape.processed) / dt,
        extracted=(
            b.scrape.get("incident_monitor_incidents_total")
            - a.scrape.get("incident_monitor_incidents_total")
        )
        / dt,
        corroborated=(b.published - a.published) / dt,
        backlog_end=b.input_backlog,
        report_backlog_end=b.report_backlog,
        worker_cores=worker,
        loop_cores=(b.loop_cpu - a.loop_cpu) / dt,
        threads_cores=((b.worker_own_cpu - a.worker_own_cpu) - (b.loop_cpu - a.loop_cpu)) / dt,
        child_cores=worker - (b.worker_own_cpu - a.worker_own_cpu) / dt,
        extraction_cores=ext_sum / dt,
        extraction_ms=1000 * ext_sum / ext_n if ext_n else float("nan"),
        broker_cores=broker,
        generator_cores=gen,
        machine_cores=machine,
        other_cores=max(0.0, machine - known),
        worker_rss=b.worker_rss,
        worker_peak=b.worker_hwm,
        p50_incident_metric=hist_quantile(0.5, a.scrape, b.scrape, HIST_INCIDENT),
        p99_incident_metric=hist_quantile(0.99, a.scrape, b.scrape, HIST_INCIDENT),
        p50_alert_metric=hist_quantile(0.5, a.scrape, b.scrape, HIST_ALERT),
        p99_alert_metric=hist_quantile(0.99, a.scrape, b.scrape, HIST_ALERT),
        commits=(b.scrape.get(f"{HIST_PAUSE}_count") - a.scrape.get(f"{HIST_PAUSE}_count")) / dt,
        phase_ms=phase_means(a.scrape, b.scrape),
        paused=(b.scrape.get(f"{HIST_PAUSE}_sum") - a.scrape.get(f"{HIST_PAUSE}_sum")) / dt,
        p50_pause=hist_quantile(0.5, a.scrape, b.scrape, HIST_PAUSE),
        p99_pause=hist_quantile(0.99, a.scrape, b.scrape, HIST_PAUSE),
    )


@dataclass
class Loss:
    """Pushed input or extracted output that is not accounted for (each must be 0)."""

    valid_pushed: int
    consumed: int
    invalid_pushed: int
    dead_lettered: int
    incidents_extracted: int
    incidents_on_topic: int
    alerts_counted: int
    alerts_on_topic: int
    failed_sends: int
    unaccounted_articles: int  # valid pushed - consumed (must be 0)
    missing_dead_letters: int
    missing_incidents: int
    missing_alerts: int

    @property
    def total(self) -> int:
        return (
            max(0, self.unaccounted_articles)
            + max(0, self.missing_dead_letters)
            + max(0, self.missing_incidents)
            + max(0, self.missing_alerts)
            + self.failed_sends
        )


def loss(run: LoadRun) -> Loss:
    """Compare what was pushed with the worker's counters and with what reached the topics."""
    final = run.final or run.watcher.samples[-1]
    m = final.scrape
    out = run.reader.out
    pusher = run.pusher
    consumed = int(m.get("incident_monitor_articles_consumed_total"))
    dead = {key for _t, key, _reason in out.dead_letters}
    extracted = int(m.get("incident_monitor_incidents_total"))
    alerts_counted = int(m.get("incident_monitor_alerts_total"))
    alert_ids = {(aid, rev) for _s, _t, aid, rev, _p in out.alerts}
    return Loss(
        valid_pushed=pusher.acked_valid,
        consumed=consumed,
        invalid_pushed=pusher.acked_invalid,
        dead_lettered=len(dead & pusher.invalid),
        incidents_extracted=extracted,
        incidents_on_topic=len(out.incident_ids),
        alerts_counted=alerts_counted,
        alerts_on_topic=len(alert_ids),
        failed_sends=pusher.failed,
        unaccounted_articles=pusher.acked_valid - consumed,
        missing_dead_letters=len(pusher.invalid - dead),
        missing_incidents=extracted - len(out.incident_ids),
        missing_alerts=alerts_counted - len(alert_ids),
    )


# ---------------------------------------------------------------------------------------------
# Profile (optional): where the worker's time goes, by py-spy
# ---------------------------------------------------------------------------------------------

CATEGORIES = (
    ("extraction", ("streams/extract/", "streams/geo.py", "streams/normalize.py")),
    (
        "corroborate/windows/alerts (ours)",
        ("streams/pipeline.py", "streams/corroborate.py", "streams/windows.py", "streams/alerts"),
    ),
    ("sink ledger (ours)", ("streams/sink.py",)),
    ("input parsing (ours)", ("streams/ingest.py",)),
    ("Prometheus: Faust sensors, /metrics", ("prometheus_client/", "faust/sensors/", "aiohttp/")),
    ("Faust tables (get/set, changelog)", ("faust/tables/", "faust/stores/", "mode/utils/coll")),
    (
        "aiokafka producer (send, socket writes)",
        ("aiokafka/producer/", "aiokafka/client.py", "aiokafka/conn.py"),
    ),
    ("aiokafka consumer (fetch)", ("aiokafka/consumer/",)),
    ("Faust send path, transactions", ("faust/topics.py", "faust/channels.py", "faust/transport/")),
    ("Faust records, serializers", ("faust/models/", "faust/serializers/", "faust/utils/json")),
    ("logging calls", ("logging/__init__.py",)),
)


@dataclass
class Profile:
    """py-spy samples of the worker's event-loop thread: idle share and busy time by part."""

    samples: int
    idle: int
    parts: Counter[str]


def profile_worker(pid: int, seconds: float, folder: Path) -> Profile | None:
    """Sample the worker's main (event-loop) thread with py-spy; None without py-spy.

    Each busy sample goes to the innermost frame that names a part (a socket write inside
    aiokafka's sender is "aiokafka producer", extraction code called from the agent is
    "extraction"). Busy includes time the thread wanted the CPU but another process had it.
    """
    spy = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if not spy:
        return None
    out = folder / "worker.pyspy.txt"
    done = subprocess.run(
        [spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "100",
         "--nonblocking", "--idle", "--format", "raw", "--output", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0 or not out.exists():
        print(f"  py-spy failed: {done.stderr.strip()[-300:]}")
        return None
    profile = Profile(0, 0, Counter())
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit() or "Worker.execute_from_commandline" not in stack:
            continue  # not the event-loop thread
        count = int(count_text)
        frames = stack.split(";")
        profile.samples += count
        if "selectors.py" in frames[-1]:
            profile.idle += count
            continue
        for frame in reversed(frames):
            part = next((n for n, marks in CATEGORIES if any(m in frame for m in marks)), None)
            if part is not None:
                profile.parts[part] += count
                break
        else:
            profile.parts["asyncio/mode glue"] += count
    return profile


def topic_records(target: Target) -> dict[str, int]:
    """Records (offsets, transaction markers included) on each of the worker's topics."""
    from kafka import KafkaConsumer, TopicPartition

    from streams.broker import client_security_kwargs

    consumer = KafkaConsumer(
        bootstrap_servers=target.bootstrap.split(","), **client_security_kwargs()
    )
    try:
        names = sorted(t for t in consumer.topics() if t.startswith(target.prefix))
        tps = [
            TopicPartition(t, p)
            for t in names
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        ends = consumer.end_offsets(tps)
        counts: dict[str, int] = defaultdict(int)
        for tp, end in ends.items():
            counts[tp.topic[len(target.prefix) :]] += end
        return dict(counts)
    finally:
        consumer.close()


def topic_bytes(target: Target) -> dict[str, int]:
    """Bytes each of the worker's topics holds on the brokers' disks (replicas counted once)."""
    from kafka.admin import KafkaAdminClient

    from streams.broker import client_security_kwargs

    admin = KafkaAdminClient(
        bootstrap_servers=target.bootstrap.split(","), **client_security_kwargs()
    )
    try:
        sizes: dict[tuple[str, int], int] = {}
        for broker in admin.describe_log_dirs():
            for log_dir in broker["log_dirs"]:
                for topic in log_dir["topics"]:
                    if not topic["name"].startswith(target.prefix):
                        continue
                    for part in topic["partitions"]:
                        key = (topic["name"][len(target.prefix) :], part["partition_index"])
                        sizes[key] = max(sizes.get(key, 0), part["partition_size"])
        totals: dict[str, int] = defaultdict(int)
        for (name, _), size in sizes.items():
            totals[name] += size
        return dict(totals)
    finally:
        admin.close()


# ---------------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------------


def ms(value: float, top: float = LATENCY_TOP) -> str:
    if value != value:
        return "n/a"
    if value == float("inf"):
        return f"> {top:g} s (past the histogram's last bucket)"
    return f"{value * 1000:.0f} ms"


def bound_of(u: Usage, step: Step | None) -> str:
    """Which bound limits the worker at this load, read from CPU use."""
    if step is not None and step.behind_max > 1.0:
        return "the load generator (it fell behind its schedule)"
    spare = (os.cpu_count() or 1) - u.machine_cores
    # The worker is two processes: the extraction process (its CPU is the extraction time)
    # and the Faust worker, whose event loop does everything else.
    loop = u.worker_cores - u.extraction_cores
    if u.extraction_cores >= 0.85:
        return f"extraction (the extraction process at {u.extraction_cores:.2f} core)"
    if loop >= 0.85:
        return (
            f"the worker's event loop: Faust/aiokafka, tables, corroborate/windows/alerts "
            f"({loop:.2f} core; extraction, in its own process, {u.extraction_cores:.2f})"
        )
    if spare < 0.3:
        return (
            f"machine CPU: the worker's event loop got {loop:.2f} core and extraction "
            f"{u.extraction_cores:.2f} while the machine was busy ({u.machine_cores:.2f} of "
            f"{os.cpu_count()} cores: broker {u.broker_cores:.2f}, generator "
            f"{u.generator_cores:.2f}, other processes {u.other_cores:.2f})"
        )
    return (
        f"waiting, not CPU: event loop at {loop:.2f} core, extraction at "
        f"{u.extraction_cores:.2f}, {spare:.2f} core spare -> Kafka/Faust round trips "
        f"(commits, sends awaited one by one)"
    )


def print_usage(title: str, u: Usage, lat: Latencies | None, log: Callable[[str], None]) -> None:
    log(f"{title}")
    log(
        f"  articles/s offered {u.offered:.1f}, processed {u.processed:.1f}; incidents/s "
        f"extracted {u.extracted:.1f}, corroborated and published {u.corroborated:.1f}; backlog "
        f"at end: {u.backlog_end:.0f} articles, {u.report_backlog_end:.0f} incidents"
    )
    if lat is not None:
        log(
            f"  article -> incident (subscriber, read_committed): p50 {ms(pct(lat.incident, 0.5))}"
            f", p99 {ms(pct(lat.incident, 0.99))}  [record timestamp: p50 "
            f"{ms(pct(lat.incident_sent, 0.5))}, p99 {ms(pct(lat.incident_sent, 0.99))}; "
            f"n={len(lat.incident)}]"
        )
        log(
            f"  article -> alert    (subscriber, read_committed): p50 {ms(pct(lat.alert, 0.5))}, "
            f"p99 {ms(pct(lat.alert, 0.99))}  [record timestamp: p50 {ms(pct(lat.alert_sent, 0.5))}"
            f", p99 {ms(pct(lat.alert_sent, 0.99))}; n={len(lat.alert)}]"
        )
    log(
        f"  worker /metrics histograms: article->incident p50 {ms(u.p50_incident_metric)}, p99 "
        f"{ms(u.p99_incident_metric)}; article->alert p50 {ms(u.p50_alert_metric)}, p99 "
        f"{ms(u.p99_alert_metric)}"
    )
    log(
        f"  CPU (cores): worker {u.worker_cores:.2f} (extraction {u.extraction_cores:.2f}, "
        f"{u.extraction_ms:.2f} ms/article), broker {u.broker_cores:.2f}, load generator "
        f"{u.generator_cores:.2f}, other processes {u.other_cores:.2f}; machine "
        f"{u.machine_cores:.2f} of {os.cpu_count()}"
    )
    if u.processed > 0:
        per = 1000 * u.worker_cores / u.processed
        log(
            f"  worker CPU per article processed: {per:.1f} ms, of which extraction "
            f"{1000 * u.extraction_cores / u.processed:.1f} ms -> one whole core would process "
            f"about {1000 / per:.0f} articles/s at this cost"
        )
        print_ceilings(u, log)
    log(
        f"  commits: {u.commits:.1f}/s, the agents held p50 {ms(u.p50_pause, PAUSE_TOP)}, p99 "
        f"{ms(u.p99_pause, PAUSE_TOP)} each: standing still {100 * u.paused:.0f}% of the time"
        "; a commit's mean ms by phase: "
        + ", ".join(f"{phase} {value:.1f}" for phase, value in u.phase_ms.items())
    )
    log(f"  worker RSS {u.worker_rss:.0f} MB (peak {u.worker_peak:.0f} MB)")


def print_ceilings(u: Usage, log: Callable[[str], None]) -> None:
    """CPU an article by part, and the rate at which each part would use all it can have.

    The event loop is one thread and extraction one process: neither can use more than one
    core, whatever the machine has. Everything together cannot use more than the machine.
    The lowest of these ceilings is what bounds a worker on this machine.
    """
    each = {
        "event loop": u.loop_cores,
        "other worker threads": u.threads_cores,
        "extraction process": u.child_cores,
        "broker": u.broker_cores,
        "load generator": u.generator_cores,
    }
    if any(v != v for v in each.values()):
        return
    per = {name: 1000 * cores / u.processed for name, cores in each.items()}
    total = sum(per.values())
    cores = os.cpu_count() or 1
    log(
        "  CPU an article (ms): "
        + ", ".join(f"{name} {ms_:.2f}" for name, ms_ in per.items())
        + f"; {total:.2f} in all"
    )
    ceilings = {
        "the event loop (one thread)": 1000 / max(per["event loop"], 1e-9),
        "extraction (one process)": 1000 / max(per["extraction process"], 1e-9),
        f"the machine ({cores} cores for all of the above)": cores * 1000 / max(total, 1e-9),
    }
    lowest = min(ceilings, key=lambda name: ceilings[name])
    log(
        "  ceilings at these costs (articles/s): "
        + ", ".join(f"{name} {rate:.0f}" for name, rate in ceilings.items())
        + f" -> bounded by {lowest}"
    )


def print_records(run: LoadRun, log: Callable[[str], None]) -> None:
    """Records and bytes the worker wrote per article, by topic: its Kafka traffic."""
    articles = max(1, run.pusher.acked)
    for title, measure, unit in (
        ("records written per input article (offsets, transaction markers included)",
         topic_records, 1),
        ("kB written per input article (as stored by the broker)", topic_bytes, 1000),
    ):  # fmt: skip
        try:
            totals = measure(run.target)
        except Exception as exc:  # a figure to print, not a reason to lose the others
            log(f"  {title}: unavailable ({type(exc).__name__}: {exc})")
            continue
        written = {k: v / articles / unit for k, v in totals.items() if k != "articles"}
        parts = ", ".join(f"{k} {v:.1f}" for k, v in sorted(written.items(), key=lambda i: -i[1]))
        log(f"  {title}: {sum(written.values()):.1f} in all: {parts}")


def print_loss(lo: Loss, run: LoadRun, log: Callable[[str], None]) -> None:
    out = run.reader.out
    log(
        f"loss: {lo.total}  (valid articles pushed {lo.valid_pushed}, consumed {lo.consumed}: "
        f"unaccounted {lo.unaccounted_articles}; malformed pushed {lo.invalid_pushed}, on the DLQ "
        f"{lo.dead_lettered}; incidents extracted {lo.incidents_extracted}, on `incidents` "
        f"{lo.incidents_on_topic}; alerts counted {lo.alerts_counted}, on `alerts` "
        f"{lo.alerts_on_topic}; failed sends {lo.failed_sends})"
    )
    with_incident = sum(1 for a in out.first_incident if a in run.pusher.valid)
    log(
        f"  outputs: {out.incident_records} incident records ({len(out.clusters)} clusters, avg "
        f"{out.incident_bytes / max(1, out.incident_records):.0f} B), {len(out.alerts)} alert "
        f"records (avg {out.alert_bytes / max(1, len(out.alerts)):.0f} B), {out.late} late; "
        f"{with_incident} of {lo.valid_pushed} articles have an incident on `incidents`"
    )
    if not run.drained:
        log(f"  NOT DRAINED within {run.drain_seconds:.0f} s: the loss figures are provisional")


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def steady_phase(
    target: Target, args: argparse.Namespace, folder: Path, log: Callable[[str], None]
) -> None:
    factory = ArticleFactory(seed=args.seed, invalid_every=args.invalid_every)
    run = start_run(target, factory)
    log(f"warm-up: first article's incident published after {warm_up(run):.1f} s")
    step = Step(args.rate, args.duration, "steady")
    log(f"\n== steady: {args.rate:g} articles/s for {args.duration:g} s ==")
    profile: list[Profile | None] = []
    profiler = None
    if args.profile_seconds > 0:
        delay = max(0.0, args.duration / 2 - args.profile_seconds / 2)

        def later() -> None:
            time.sleep(delay)
            found = profile_worker(target.pid, args.profile_seconds, folder)
            if found is not None and args.profile_out:
                shutil.copyfile(folder / "worker.pyspy.txt", args.profile_out)
            profile.append(found)

        profiler = threading.Thread(target=later, daemon=True)
        profiler.start()
    progress = threading.Event()

    def report_progress() -> None:
        last = run.watcher.samples[-1]
        while not progress.wait(args.interval):
            now = run.watcher.samples[-1]
            u = usage(last, now)
            log(
                f"  t={now.t - step.start:4.0f}s  articles/s offered {u.offered:5.1f} processed "
                f"{u.processed:5.1f}  incidents/s {u.extracted:5.1f} -> {u.corroborated:5.1f}  "
                f"backlog {u.backlog_end:5.0f} + {u.report_backlog_end:5.0f}  worker "
                f"{u.worker_cores:.2f} core (extraction {u.extraction_cores:.2f})  "
                f"alert p99 {ms(u.p99_alert_metric)}  RSS {u.worker_rss:.0f} MB"
            )
            last = now

    reporter = threading.Thread(target=report_progress, daemon=True)
    reporter.start()
    run.pusher.run_step(step)
    run.steps.append(step)
    progress.set()
    end_sample = run.watcher.sample() or run.watcher.samples[-1]
    drain(run, args.drain_timeout, log)
    stop_run(run)
    log("")
    print_records(run, log)
    first = run.watcher.at(step.start) or run.watcher.samples[0]
    u = usage(first, end_sample)
    lat = latencies(run, step.wall_start, step.wall_end)
    ok, why = sustained(run, step)
    log("")
    print_usage(
        f"steady {args.rate:g}/s x {args.duration:g} s: {'sustained' if ok else 'NOT sustained'}"
        f" ({why}); generator max {step.behind_max:.2f} s behind schedule",
        u,
        lat,
        log,
    )
    peak = max((s.worker_hwm for s in run.watcher.samples if s.worker_hwm > 0), default=0.0)
    log(f"  worker peak RSS over the run (VmHWM): {peak:.0f} MB")
    if ok:
        log(
            f"  bound: none reached at {args.rate:g}/s (worker at {u.worker_cores:.2f} core, "
            f"extraction {u.extraction_cores:.2f}); the ramp finds the limit"
        )
    else:
        log(f"  bound: {bound_of(u, step)}")
    log(
        f"  target p99 article -> alert <= 1 s at 200/s: subscriber p99 "
        f"{ms(pct(lat.alert, 0.99))}, worker histogram p99 {ms(u.p99_alert_metric)}"
    )
    if profiler is not None:
        profiler.join(args.profile_seconds + 30)
        if profile and profile[0]:
            prof = profile[0]
            busy = prof.samples - prof.idle
            log(
                f"  py-spy, worker event-loop thread, {args.profile_seconds:g} s at 100 Hz: busy "
                f"{busy / max(1, prof.samples):.0%} of the time; of the busy time:"
            )
            for name, count in prof.parts.most_common():
                log(f"    {count / max(1, busy):6.1%}  {name}")
            if u.processed > 0 and busy > 0:
                # The sample's shares applied to the loop thread's CPU over the whole step.
                loop_ms = 1000 * u.loop_cores / u.processed
                ours = sum(n for name, n in prof.parts.items() if "(ours)" in name) / busy
                log(
                    f"    -> of the event loop's {loop_ms:.2f} ms an article: ours "
                    f"{loop_ms * ours:.2f} ms, Kafka/Faust/asyncio {loop_ms * (1 - ours):.2f} ms"
                )
        else:
            log("  py-spy: not available (put py-spy on PATH or set PY_SPY)")
    log("")
    print_loss(loss(run), run, log)


def ramp_phase(target: Target, args: argparse.Namespace, log: Callable[[str], None]) -> None:
    factory = ArticleFactory(seed=args.seed + 1, invalid_every=args.invalid_every)
    run = start_run(target, factory)
    log(f"warm-up: first article's incident published after {warm_up(run):.1f} s")
    log(
        f"\n== ramp (fresh worker): from {args.ramp_start:g}/s, +{args.ramp_step:g}/s every "
        f"{args.ramp_interval:g} s, until a step is not sustained =="
    )
    best: Step | None = None
    capacity: Usage | None = None
    saturated: Step | None = None
    rate = args.ramp_start
    while rate <= args.ramp_max:
        step = Step(rate, args.ramp_interval, f"ramp {rate:g}/s")
        run.pusher.run_step(step)
        run.steps.append(step)
        end = run.watcher.sample() or run.watcher.samples[-1]
        first = run.watcher.at(step.start) or run.watcher.samples[0]
        u = usage(first, end)
        ok, why = sustained(run, step)
        log(
            f"  {rate:6.0f}/s: processed {u.processed:6.1f}/s, incidents/s {u.extracted:.1f} -> "
            f"{u.corroborated:.1f}, {why}, worker {u.worker_cores:.2f}"
            f" core (extraction {u.extraction_cores:.2f}), broker {u.broker_cores:.2f}, "
            f"generator {u.generator_cores:.2f} (behind {step.behind_max:.2f} s), other "
            f"{u.other_cores:.2f}; alert p99 (worker) {ms(u.p99_alert_metric)} -> "
            f"{'sustained' if ok else 'NOT sustained'}"
        )
        if not ok:
            saturated, capacity = step, u
            break
        best = step
        rate += args.ramp_step
    drain(run, args.drain_timeout, log)
    stop_run(run)
    log("")
    print_records(run, log)
    if best is not None:
        lat = latencies(run, best.wall_start, best.wall_end)
        first = run.watcher.at(best.start) or run.watcher.samples[0]
        last = run.watcher.at(best.end + 0.01) or run.watcher.samples[-1]
        title = f"maximum sustained rate: {best.rate:g} articles/s per worker"
        print_usage(title, usage(first, last), lat, log)
    else:
        log(f"maximum sustained rate: below {args.ramp_start:g} articles/s per worker")
    if capacity is not None and saturated is not None:
        log(
            f"capacity (processing rate while saturated at {saturated.rate:g}/s offered): "
            f"{capacity.processed:.1f} articles/s"
        )
        log(f"  bound: {bound_of(capacity, saturated)}")
    log("")
    print_loss(loss(run), run, log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="steady articles/s (200)")
    parser.add_argument("--duration", type=float, default=300.0, help="steady seconds (300)")
    parser.add_argument("--steady", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--ramp", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--ramp-start", type=float, default=20.0, help="articles/s (20)")
    parser.add_argument("--ramp-step", type=float, default=20.0, help="articles/s added (20)")
    parser.add_argument("--ramp-interval", type=float, default=30.0)
    parser.add_argument("--ramp-max", type=float, default=3000.0)
    parser.add_argument("--short", action="store_true", help="CI: 50/s for 20 s, no ramp")
    parser.add_argument("--invalid-every", type=int, default=500, help="every Nth is malformed")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--interval", type=float, default=30.0, help="progress line every N s")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--profile-seconds", type=float, default=0.0, help="py-spy the worker")
    parser.add_argument(
        "--profile-out", type=Path, help="keep py-spy's samples here (folded stacks, one a line)"
    )
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the worker, e.g. PRODUCER_LINGER=0.01 (Faust reads its "
        "settings from the environment); repeatable",
    )
    args = parser.parse_args()
    if args.short:
        args.rate, args.duration, args.interval = 50.0, 20.0, 5.0
        args.steady, args.ramp = True, False

    def log(line: str) -> None:
        print(line, flush=True)

    extra_env = dict(item.split("=", 1) for item in args.worker_env)
    busy0, total0 = machine_cpu()
    load1, load5, _ = os.getloadavg()
    log(
        f"machine: {os.cpu_count()} cores, {_mem_total_gb():.0f} GB; the worker, the broker and "
        f"this load generator share them (load average now {load1:.1f}, 5 min {load5:.1f})"
    )
    if extra_env:
        log(f"worker environment: {extra_env}")
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    with kafka_cluster(log) as (bootstrap, broker_pid):
        phases: list[tuple[str, Callable[[Target], None]]] = []
        if args.steady:
            phases.append(("steady", lambda t: steady_phase(t, args, folder, log)))
        if args.ramp:
            phases.append(("ramp", lambda t: ramp_phase(t, args, log)))
        for name, phase in phases:
            (folder / name).mkdir()
            worker = WorkerProcess(bootstrap, folder / name, extra_env=extra_env)
            worker.start()
            up = worker.wait_metrics()
            log(f"worker ({name}): /metrics answering {up:.1f} s after launch")
            try:
                phase(worker.target(broker_pid))
            finally:
                worker.stop()
    busy1, total1 = machine_cpu()
    cores = os.cpu_count() or 1
    log(
        f"\nmachine busy over the whole bench: {(busy1 - busy0) / (total1 - total0) * cores:.2f}"
        f" of {cores} cores (load average now {os.getloadavg()[0]:.1f})"
    )
    shutil.rmtree(folder, ignore_errors=True)


def _mem_total_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


if __name__ == "__main__":
    main()
