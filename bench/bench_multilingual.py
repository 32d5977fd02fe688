# ruff: noqa: RUF001 (the set's Chinese and Japanese punctuation is full-width on purpose)
"""Multilingual semantic search: recall@1/@5 per language and time per query, per embedder.

A small set written for this bench (not taken from any data set): 8 memories each
in English, Japanese, Chinese, Korean, Spanish and German about viewers' pets,
jobs, food, sports and fears, with a question per memory that paraphrases it in
its own language (other words, not the memory's), and for the non-English ones
the same question in English (cross-lingual). Every question is searched against
all 48 memories by embedding alone (no full-text search), so that a memory is
found by meaning, and topics repeat across languages as distractors.

Each embedder is Luma's own, chosen as `LUMA_EMBEDDING_SOURCE` would choose it
(memories through `embed`, questions through `embed_queries`: E5's "passage: "
and "query: " prefixes). Time per question, on one thread: embedding it alone, as
a search does, and the whole search (`memory_rank`) among the 48 memories; the
embedders take turns over several rounds (this machine's speed drifts), and each
median is printed with its ratio to the first source's (MiniLM's), as wall time and
as this process's CPU time (which other work on a shared machine does not inflate).

    .venv/bin/python bench/bench_multilingual.py [--sources minilm,multilingual-e5] [--rounds 5]
    .venv/bin/python bench/bench_multilingual.py --sources minilm,ollama --ollama-model bge-m3

`ollama` uses the Ollama server and embedding model of the runtime settings (or
`--ollama-model`): the multilingual alternative for a machine that runs one.
"""

import argparse
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

# One thread for every engine before any of them loads (OpenMP reads this once).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from benchenv import django_setup

django_setup("multilingual")

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from luma.errors import LumaError  # noqa: E402
from memories.embeddings import Embedder, embedder_get  # noqa: E402
from memories.models import Memory  # noqa: E402
from memories.selectors import _query_vectors, memory_rank  # noqa: E402
from memories.services import memories_create_bulk, memories_embed  # noqa: E402

# (language, memory, question in that language, the question in English or None)
SET: list[tuple[str, str, str, str | None]] = [
    ("en", "Kai adopted a grey kitten named Pebble last spring.",
     "What pet did Kai bring home, and what is it called?", None),
    ("en", "Mina works night shifts as a nurse at the city hospital.",
     "What does Mina do for a living?", None),
    ("en", "Theo is allergic to peanuts and carries an epinephrine pen.",
     "Which food makes Theo ill?", None),
    ("en", "Rosa is training for her first marathon in October.",
     "What long-distance race is Rosa getting ready for?", None),
    ("en", "Jun moved from Osaka to Toronto for a software job.",
     "Which city did Jun relocate to for work?", None),
    ("en", "Lena plays the cello in a community orchestra every Thursday.",
     "What instrument does Lena perform on each week?", None),
    ("en", "Omar's favourite game is Stardew Valley; he has sunk 600 hours into it.",
     "Which farming video game does Omar love?", None),
    ("en", "Priya is afraid of flying and always takes the train when she travels.",
     "How does Priya get around on trips, and why?", None),
    ("ja", "ユキは去年の冬に柴犬を飼い始めて、名前はコタロウです。",
     "ユキのペットは何という名前ですか？", "What is Yuki's dog called?"),
    ("ja", "ハルトは大阪のラーメン屋で店長として働いています。",
     "ハルトの職業は何ですか？", "Where does Haruto have his job?"),
    ("ja", "サクラは毎朝五時に起きてヨガをしている。",
     "サクラは早朝にどんな運動をしますか？", "What exercise does Sakura do early in the day?"),
    ("ja", "レンは高所恐怖症なので、観覧車には絶対に乗らない。",
     "レンが怖がっているものは何ですか？", "What is Ren scared of?"),
    ("ja", "アオイは来月、京都で結婚式を挙げる予定だ。",
     "アオイの婚礼はどの町で行われますか？", "Where is Aoi getting married?"),
    ("ja", "ソウタは寿司が大好きだが、わさびは苦手だ。",
     "ソウタが食べられない薬味は何ですか？", "Which condiment does Sota dislike?"),
    ("ja", "ミオはピアノを十年間習っていて、ショパンが得意だ。",
     "ミオが長く続けている楽器は？", "Which instrument has Mio studied for years?"),
    ("ja", "リクは毎週土曜日に地元のサッカーチームでゴールキーパーをしている。",
     "リクは週末にどんなスポーツをしていますか？", "What sport does Riku play on weekends?"),
    ("zh", "小明上个月在北京的一家银行找到了新工作。",
     "小明最近在哪里上班？", "Where did Xiaoming start working recently?"),
    ("zh", "丽丽养了两只橘猫，一只叫馒头，一只叫包子。",
     "丽丽家里有什么宠物？", "What pets does Lili keep?"),
    ("zh", "阿伟对海鲜过敏，吃虾会起疹子。",
     "阿伟不能吃哪类食物？", "What food must Awei avoid?"),
    ("zh", "小芳每天晚上在公园跑五公里。",
     "小芳傍晚做什么锻炼？", "How does Xiaofang exercise in the evenings?"),
    ("zh", "老王的女儿明年要去德国读大学。",
     "老王的孩子打算去哪个国家留学？", "Which country will Lao Wang's daughter study in?"),
    ("zh", "小李最喜欢的电影是《千与千寻》，已经看了十遍。",
     "小李百看不厌的动画片是哪一部？", "Which animated film does Xiao Li rewatch?"),
    ("zh", "张姐在周末教孩子们画水彩画。",
     "张姐休息日做什么？", "What does Sister Zhang do on her days off?"),
    ("zh", "小陈害怕坐飞机，回老家总是坐高铁。",
     "小陈回家乡用什么交通工具？", "How does Xiao Chen travel back to his hometown?"),
    ("ko", "민수는 작년에 서울에서 부산으로 이사했다.",
     "민수는 지금 어느 도시에 살고 있나요?", "Which city does Minsu live in now?"),
    ("ko", "지은이는 고양이 알레르기가 있어서 강아지를 키운다.",
     "지은이가 반려동물로 개를 선택한 이유는?", "Why does Jieun keep a dog rather than a cat?"),
    ("ko", "서준은 매일 아침 출근 전에 수영장에 간다.",
     "서준은 아침에 어떤 운동을 하나요?", "What sport does Seojun do before his job each day?"),
    ("ko", "하은이는 대학병원에서 간호사로 일한다.",
     "하은이의 직업은 무엇인가요?", "What does Haeun do for a living?"),
    ("ko", "도윤이는 기타를 배운 지 3년 됐고 밴드에서 연주한다.",
     "도윤이가 다루는 악기는?", "Which instrument does Doyun play?"),
    ("ko", "수아는 매운 음식을 전혀 못 먹는다.",
     "수아가 피하는 음식 종류는?", "What kind of food can't Sua handle?"),
    ("ko", "예준이는 다음 달에 제주도로 신혼여행을 간다.",
     "예준이는 결혼 후 어디로 여행을 가나요?", "Where is Yejun going for his honeymoon?"),
    ("ko", "지호는 주말마다 편의점에서 아르바이트를 한다.",
     "지호는 토요일과 일요일에 어디서 일하나요?", "Where does Jiho have a part-time job?"),
    ("es", "Lucía trabaja como profesora de matemáticas en un instituto de Sevilla.",
     "¿A qué se dedica Lucía?", "What is Lucía's profession?"),
    ("es", "Mateo tiene un perro labrador que se llama Chispa.",
     "¿Cómo se llama la mascota de Mateo?", "What is Mateo's pet called?"),
    ("es", "Carmen no come carne desde hace cinco años.",
     "¿Qué dieta sigue Carmen?", "What is Carmen's diet?"),
    ("es", "Diego sale a correr por la playa todas las mañanas.",
     "¿Qué deporte practica Diego al amanecer?", "How does Diego exercise at dawn?"),
    ("es", "Sofía se va a vivir a Berlín el próximo verano.",
     "¿A qué ciudad se muda Sofía?", "Which city is Sofía moving to?"),
    ("es", "Javier toca la batería en un grupo de rock.",
     "¿Qué instrumento usa Javier en su banda?", "What does Javier play in his band?"),
    ("es", "Elena le tiene miedo a las arañas.",
     "¿Qué animales asustan a Elena?", "Which creatures frighten Elena?"),
    ("es", "Pablo está aprendiendo japonés para viajar a Tokio.",
     "¿Qué idioma estudia Pablo y por qué?", "Which language is Pablo learning?"),
    ("de", "Jonas arbeitet als Koch in einem Restaurant in Hamburg.",
     "Was ist Jonas von Beruf?", "What is Jonas's job?"),
    ("de", "Anna hat zwei Kaninchen, die im Garten wohnen.",
     "Welche Haustiere hält Anna?", "What pets does Anna have?"),
    ("de", "Lukas fährt jeden Tag mit dem Fahrrad zur Arbeit.",
     "Wie kommt Lukas ins Büro?", "How does Lukas commute?"),
    ("de", "Mia spielt seit ihrer Kindheit Geige.",
     "Welches Instrument beherrscht Mia?", "Which instrument has Mia played since she was small?"),
    ("de", "Felix hat eine Laktoseintoleranz und trinkt keine Milch.",
     "Welche Lebensmittel verträgt Felix nicht?", "Which foods can't Felix digest?"),
    ("de", "Lea zieht nächsten Monat nach Wien.",
     "In welche Stadt verlegt Lea ihren Wohnsitz?", "Where is Lea relocating?"),
    ("de", "Paul klettert am Wochenende gern in den Alpen.",
     "Welchem Hobby geht Paul samstags und sonntags in den Bergen nach?",
     "What does Paul do in the mountains on weekends?"),
    ("de", "Emma hat Angst vor Gewittern.",
     "Wovor fürchtet sich Emma?", "What is Emma afraid of?"),
]  # fmt: skip
LANGUAGES = ["en", "ja", "zh", "ko", "es", "de"]


def embedder_for(source: str) -> Embedder:
    settings.LUMA_EMBEDDING_SOURCE = source
    embedder = embedder_get()
    assert embedder is not None
    return embedder


def ranks(embedder: Embedder) -> dict[tuple[str, str], list[int]]:
    """The rank (0 = first) of each question's memory among all memories, by
    (language, "own" or "en")."""
    memories = embedder.embed([memory for _, memory, _, _ in SET])
    found: dict[tuple[str, str], list[int]] = defaultdict(list)
    for wanted, (language, _, own, english) in enumerate(SET):
        for kind, question in (("own", own), ("en", english)):
            if question is None:
                continue
            scores = memories @ embedder.embed_queries([question])[0]
            found[(language, kind)].append(int((scores > scores[wanted]).sum()))
    return found


def query_times(
    embedders: dict[str, Embedder], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Milliseconds per question, each embedder in turn, round after round: to embed
    it, and for the whole search (`memory_rank`: embedding, full-text and vector
    search, fusion) over the set's memories, embedded again by that model first."""
    questions = [own for _, _, own, _ in SET] + [en for *_, en in SET if en]
    embedding: dict[str, list[tuple[float, float]]] = defaultdict(list)
    search: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for embedder in embedders.values():
        embedder.embed_queries(questions[:2])  # first-call allocations
    for _ in range(rounds):
        for source, embedder in embedders.items():
            for question in questions:
                with timed(embedding[source]):
                    embedder.embed_queries([question])
            settings.LUMA_EMBEDDING_SOURCE = source
            memories_embed()  # every memory, as the worker does after a change of model
            _query_vectors.clear()  # each question embedded anew
            for question in questions:
                with timed(search[source]):
                    memory_rank(queryset=Memory.objects, query=question)
    return embedding, search


@contextmanager
def timed(into: list[tuple[float, float]]) -> Iterator[None]:
    """Append (wall, CPU) milliseconds: CPU time is this process's alone, so other
    work on a busy machine does not count in it."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))


def timing_print(title: str, times: dict[str, list[tuple[float, float]]]) -> None:
    first = next(iter(times.values()))
    base_wall = statistics.median(wall for wall, _ in first)
    base_cpu = statistics.median(cpu for _, cpu in first)
    print(title)
    for source, spent in times.items():
        wall = statistics.median(wall for wall, _ in spent)
        cpu = statistics.median(cpu for _, cpu in spent)
        print(
            f"{source:>16}  wall p50 {wall:6.2f} ms ({wall / base_wall:4.2f}x)  "
            f"CPU p50 {cpu:6.2f} ms ({cpu / base_cpu:4.2f}x)"
        )


def recall(found: list[int], k: int) -> str:
    return f"{100 * sum(rank < k for rank in found) / len(found):5.1f}" if found else "    -"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", default="minilm,multilingual-e5")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ollama-model", help="the Ollama embedding model for `ollama`")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    memories_create_bulk(memories=[Memory(content=memory) for _, memory, _, _ in SET], embed=False)
    if args.ollama_model:
        from luma.services import runtime_settings_update

        runtime_settings_update(ollama_embedding_model=args.ollama_model)
    embedders: dict[str, Embedder] = {}
    for source in args.sources.split(","):
        try:
            embedder = embedder_for(source)
            embedder.embed_queries(["Is it there?"])
            embedders[source] = embedder
        except LumaError as error:  # no Ollama server, a model file that does not match
            print(f"{source}: unavailable, left out: {error.message} {error.detail or ''}")
    if not embedders:
        raise SystemExit("No embedder to measure.")

    print(f"{len(SET)} memories; recall@1 / recall@5 (%), questions in the memory's language")
    print(f"and [in English]; {len(SET)} + {sum(1 for *_, en in SET if en)} questions")
    print(f"{'source':>16} " + " ".join(f"{language:>13}" for language in LANGUAGES) + "   all")
    for source, embedder in embedders.items():
        found = ranks(embedder)
        own = [found[(language, "own")] for language in LANGUAGES]
        cells = [f"{recall(f, 1)}/{recall(f, 5)}" for f in own]
        every = [rank for ranks_ in own for rank in ranks_]
        print(f"{source:>16} " + " ".join(cells) + f"  {recall(every, 1)}/{recall(every, 5)}")
        cross = [found[(language, "en")] for language in LANGUAGES]
        cells = [f"{recall(f, 1)}/{recall(f, 5)}" if f else f"{'-':>13}" for f in cross]
        every = [rank for ranks_ in cross for rank in ranks_]
        print(f"{'[en]':>16} " + " ".join(cells) + f"  {recall(every, 1)}/{recall(every, 5)}")

    embedding, search = query_times(embedders, args.rounds)
    print(f"\nper question ({args.rounds} rounds, the embedders taking turns; x: to the first)")
    timing_print("embedding it:", embedding)
    timing_print(f"the whole search among the {len(SET)} memories:", search)


if __name__ == "__main__":
    main()
