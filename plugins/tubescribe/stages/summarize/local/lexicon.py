"""Word lists for the local summarizer's topic tags: English stop and common words, and spellings.

The lists are general English and general computer-science vocabulary, written by hand; they
must not be tuned to particular videos. Terms are lower case, words joined by single spaces.
The lexicon that places a video in the twelve general fields is in `fields.py`.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Never a topic, never the first or last word of one: function words, spoken filler, contractions
# as captions spell them (apostrophes dropped), number words, and YouTube boilerplate.
STOP_WORDS: frozenset[str] = _words(
    """
    a about above across after again against ago all almost along already also although always am among an and
    another any anybody anyone anything anyway anywhere are around as at away back be became because become becomes
    been before being below beside besides between beyond both but by can cannot could did do does doing done down
    during each either else enough etc even ever every everybody everyone everything everywhere except far few for
    from further get gets getting got gotten had has have having he her here hers herself him himself his how however
    i if in into is it its itself just least less let lets like likely many may maybe me might mine more most mostly
    much must my myself near nearly neither never next no nobody none nor not nothing now nowhere of off often oh ok
    okay on once one only onto or other others otherwise our ours ourselves out over own per perhaps please quite
    rather really same several shall she should since so some somebody someone something sometimes somewhat somewhere
    soon still such than that the their theirs them themselves then there therefore these they this those though
    through throughout thus till to together too toward towards under unless until up upon us very via was we well
    were what whatever when whenever where whereas wherever whether which while who whoever whole whom whose why will
    with within without would yet you your yours yourself yourselves
    aint arent cant couldnt didnt doesnt dont hadnt hasnt havent hed hes id ill im isnt itd itll ive mustnt shant
    shed shell shes shouldnt thats theres theyd theyll theyre theyve wasnt wed weve werent whats wheres whos wont
    wouldnt youd youll youre youve heres hows whens whys lemme gimme kinda sorta
    um uh uhm umm hmm erm ah eh huh mm mhm yeah yep yup nope hey hi hello bye wow ooh oops alright
    gonna wanna gotta guys guy folks basically actually literally totally really seriously honestly obviously
    simply pretty super stuff thing things whatnot anyways anytime
    music applause laughter inaudible foreign
    zero two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred thousand
    million billion trillion first second third fourth fifth last half dozen dozens hundreds thousands millions
    video videos channel subscribe subscribed subscribers like likes comment comments watching watch watched thanks
    thank welcome sponsor sponsored link description patreon today tomorrow yesterday
    linkedin twitter instagram tiktok discord
    say says said saying tell told know knows knew known think thought see seen saw look looks looking looked
    go goes going gone went come comes coming came want wants wanted take takes taking took make makes making made
    put puts give gives gave given keep kept mean means meant need needs needed try tries trying tried
    sure right left yes kind sort lot lots bit way ways able
    """
)

# Everyday English: allowed in topics but scored down, so a tag is rarely a plain word.
COMMON_WORDS: frozenset[str] = _words(
    """
    time times year years day days week weeks month months hour hours minute minutes moment moments life world people
    person man woman men women child children family friend friends home house place places part parts case cases
    point points fact facts problem problems question questions answer answers reason reasons example examples idea
    ideas word words name names number numbers story end start beginning side sides area group team company business
    money job jobs work works worked working world hand hands head eye eyes face body room door car city country
    state level levels kind kinds sort type line lines set sets order result results change changes step steps
    way thing idea issue issues detail details option options choice choices chance matter matters rest lot top
    bottom front middle new old good bad great big small little large long short high low hard easy simple
    different same real true false whole full entire main major minor important best better worse worst nice cool
    fun funny crazy weird awesome amazing huge tiny early late quick quickly fast slow slowly free open close closed
    possible impossible available similar certain clear special common usual normal natural general specific
    final finally recently currently usually especially exactly probably definitely certainly directly easily
    already instead rather around almost enough also
    use used uses using call called calls calling run runs running ran find finds found show shows showed shown
    work help helps helped start starts started begin begins began add adds added set move moves moved turn turns
    turned play plays played feel feels felt seem seems seemed leave leaves happen happens happened become allow
    allows allowed provide provides provided create creates created build builds built write writes wrote written
    read reads learn learns learned learning understand understands understood remember talk talks talked
    explain explains explained follow follows followed change changed bring brings brought hold holds held
    ask asks asked live lives lived believe believes care cares love loves loved hate hates hated hope hopes
    deal deals agree agreed decide decided deciding continue continues stop stops stopped check checks checked
    pass passes passed share shares shared handle handles handled include includes included
    everybody guys anyone something somebody someone nothing
    sense view views fine enough sorry glad happy sad previous next current following various own extra
    additional actual original official single multiple unique exact entire several certain whole mere
    plus minus supported rule rules approach
    absolutely extremely completely entirely nearly fairly truly purely merely clearly
    """
)

# Never a topic: a date says when, not what. Months and weekdays (not "may", already a stop word).
DATES: frozenset[str] = _words(
    """
    january february march april june july august september october november december jan feb mar apr jun jul aug
    sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday weekend
    """
)

# Never a topic: common first names. In lower-case captions nothing else marks a person (capitals are gone,
# and the embedding model places "graydon" as near a tech talk as "cargo"), and a talk names its people
# beside its subject: an inventor, a presenter, a colleague. Names that are also technical words (ada,
# julia, ruby, pascal, ray, max, mark) are left out.
NAMES: frozenset[str] = _words(
    """
    aaron adam alan alex alexander alice amanda amy andrea andrew andy angela anna anne anthony ben benjamin beth
    bob brad brandon brendan brian bruce carl carlos carol catherine charles charlie chris christian christina
    christopher claire craig dan daniel dave david dennis diana donald doug douglas ed edward elizabeth elon emily
    emma eric erik evan frank fred gary george graham graydon greg gregory guido hannah harry heather helen henry
    ian jake james jamie jane janet jason jeff jeffrey jennifer jeremy jerry jessica jim jimmy joe joel john johnny
    jon jonathan jordan jose joseph josh joshua juan justin karen kate katie keith kelly kelley ken kenneth kent
    kevin kim kyle larry laura lauren linda lisa linus lucas luke maria marie martin mary matt matthew megan
    melissa michael michelle mike nancy nathan nick nicholas nicole olivia oliver patrick paul peter phil philip
    rachel raj rebecca richard rick rob robert robin ron ronald ryan sam samantha sandra sarah scott sean sophia
    stephanie stephen steve steven susan thomas tim timothy todd tom tony tyler umar victor walter wes william
    zach zachary
    """
)

# Plain English for the embedding model: the centroid of these is what a phrase should be far from.
EVERYDAY_SAMPLE: tuple[str, ...] = tuple(
    [
        "thing",
        "things",
        "stuff",
        "something",
        "way",
        "time",
        "really",
        "actually",
        "different",
        "later",
        "instead",
        "essentially",
        "simple",
        "complicated",
        "weird",
        "cool",
        "important",
        "example",
        "idea",
        "people",
        "lot",
        "kind",
        "part",
        "point",
        "good",
        "great",
        "new",
        "end",
        "use",
        "make",
    ]
)

# What every video says around its subject: a bullet or the introduction should be far from these.
BOILERPLATE: tuple[str, ...] = (
    "hello guys and welcome back to my channel",
    "thanks for watching and i will see you in the next one",
    "please like the video and subscribe to the channel",
    "share this video with your friends on social media",
    "let me know what you think in the comments",
    "i hope you enjoyed this video",
)

# How a tag is written when plain title case would be wrong.
DISPLAY: dict[str, str] = {
    "javascript": "JavaScript",
    "typescript": "TypeScript",
    "webassembly": "WebAssembly",
    "github": "GitHub",
    "gitlab": "GitLab",
    "nodejs": "Node.js",
    "reactjs": "React",
    "nextjs": "Next.js",
    "vuejs": "Vue.js",
    "postgresql": "PostgreSQL",
    "mysql": "MySQL",
    "mongodb": "MongoDB",
    "sqlite": "SQLite",
    "duckdb": "DuckDB",
    "graphql": "GraphQL",
    "pytorch": "PyTorch",
    "tensorflow": "TensorFlow",
    "numpy": "NumPy",
    "openai": "OpenAI",
    "chatgpt": "ChatGPT",
    "macos": "macOS",
    "ios": "iOS",
    "devops": "DevOps",
    "youtube": "YouTube",
    "opengl": "OpenGL",
    "webgl": "WebGL",
    "webgpu": "WebGPU",
    "intellisense": "IntelliSense",
    "ecmascript": "ECMAScript",
    "llvm": "LLVM",
    "kv": "KV",
    "js": "JS",
    "nosql": "NoSQL",
}

ACRONYMS: frozenset[str] = _words(
    """
    ai api apis aws cd ci cli cpu css cdn crud cnn dns dom gcp gpu gpt html http https ide io json jsx jwt llm llms
    ml mvc nlp npm orm os ram rest rnn sdk seo spa sql ssd ssh ssr tcp tls ts ui url ux vm vms xml yaml ssl cors
    etl bi ar vr qa tdd oop jit gc kv rag lstm alu simd fpga risc cisc ascii utf acid bfs dfs csv ibm svg fps
    """
)
