"""Word lists for the local summarizer: English stop and common words, and a CS lexicon per field.

The lists are general English and general computer-science vocabulary, written by hand; they
must not be tuned to particular videos. Terms are lower case, words joined by single spaces.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _weighted(groups: dict[float, str]) -> dict[str, float]:
    return {term.replace("_", " "): weight for weight, terms in groups.items() for term in terms.split()}


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
    simply pretty super stuff thing things whatnot anyways
    music applause laughter inaudible foreign
    zero two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred thousand
    million billion trillion first second third fourth fifth last half dozen dozens hundreds thousands millions
    video videos channel subscribe subscribed subscribers like likes comment comments watching watch watched thanks
    thank welcome sponsor sponsored link description patreon today tomorrow yesterday
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

# Words every programming video says; a tag made of only these says little about this video.
GENERIC_TECH: frozenset[str] = _words(
    """
    code coding program programs programming developer developers development software computer computers
    application applications app apps tool tools project projects feature features version versions release
    releases file files system systems technology tech platform platforms tutorial tutorials beginner beginners
    source project value values data user users support example command commands output input
    """
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

# Field -> term -> weight. Weight 3: names the field on its own; 2: typical of it; 1: shared with
# others; 0.5: ambiguous. Two-word terms are written with "_" and matched before single words,
# whose counts they then take.
FIELD_TERMS: dict[str, dict[str, float]] = {
    "Algorithms and Data Structures": _weighted(
        {
            3: (
                "algorithm algorithms data_structure data_structures linked_list binary_tree binary_search hash_table "
                "quicksort merge_sort bubble_sort dynamic_programming big_o time_complexity space_complexity bfs dfs "
                "breadth_first depth_first dijkstra shortest_path leetcode backtracking memoization trie "
                "priority_queue linear_time bit_manipulation"
            ),
            2.5: "sorting recursion",
            2: "hash_map hashmap recursive greedy traversal logarithmic",
            1.5: "array arrays sort",
            1: "tree trees graph graphs hash sorted complexity iteration iterate matrix interview queue divide_and",
            0.5: "node nodes loop loops heap stack search pointer pointers binary string",
        }
    ),
    "Artificial Intelligence (AI) and Machine Learning": _weighted(
        {
            3: (
                "machine_learning deep_learning neural_network neural_networks artificial_intelligence language_model "
                "language_models large_language llm llms gpt chatgpt openai transformer transformers self_attention "
                "tokenizer gradient_descent backpropagation loss_function fine_tuning finetuning "
                "reinforcement_learning chatbot softmax convolutional convolution cnn rnn lstm pytorch tensorflow "
                "keras hugging_face overfitting perceptron computer_vision nlp natural_language speech_recognition "
                "bert learning_rate"
            ),
            2.5: (
                "neural ai ml embedding embeddings gradient classifier diffusion generative epoch epochs supervised "
                "unsupervised context_window"
            ),
            2: (
                "inference attention optimizer classification activation encoder decoder rag vector_database tensor "
                "tensors llama hallucination"
            ),
            1.5: (
                "training trained dataset datasets token tokens prompt prompts weights retrieval prediction "
                "predictions intelligence"
            ),
            1: "model models train agent agents parameters experts mixture_of predict whisper",
            0.5: "layer layers",
        }
    ),
    "Computer Architecture": _weighted(
        {
            3: (
                "cpu cpus processor processors instruction_set x86 risc cisc multicore transistor transistors dram "
                "virtual_memory microcontroller fpga simd motherboard alu pipelining branch_prediction"
            ),
            2.5: "operating_system operating_systems interrupt interrupts bare_metal firmware hypervisor",
            2: (
                "gpu gpus hardware register registers instruction instructions assembly chip chips silicon ram ssd "
                "kernel paging embedded nvidia intel amd floating_point electronics"
            ),
            1.5: "arm clock cycles cores virtual_machine virtual_machines parallelism architectures",
            1: "cache caches cycle bus disk bits bytes byte bandwidth low_level lowlevel physical",
            0.5: "memory core architecture",
        }
    ),
    "Data Science and Analytics": _weighted(
        {
            3: (
                "data_science data_scientist analytics statistics statistical pandas dataframe dataframes matplotlib "
                "jupyter correlation median etl big_data hadoop data_pipeline data_warehouse forecasting "
                "data_cleaning feature_engineering outliers kaggle"
            ),
            2.5: "regression variance hypothesis spreadsheet",
            2: "numpy probability dashboard dashboards spark excel insights csv",
            1.5: "analysis analyze chart charts plot plots notebook distribution metrics trend trends",
            1: "visualization sample samples dataset datasets survey percent average",
            0.5: "mean",
        }
    ),
    "Database Systems and Management": _weighted(
        {
            3: (
                "database databases sql acid postgres postgresql mysql sqlite mongodb mongo redis nosql primary_key "
                "foreign_key orm key_value document_store cassandra dynamodb duckdb storage_engine data_store "
                "stored_procedure relational supabase"
            ),
            2.5: "crud sharding data_storage",
            2: (
                "query queries indexes indexing transaction transactions schema schemas joins normalization "
                "replication migrations firebase"
            ),
            1.5: "table tables rows column columns partition consistency migration persistence",
            1: "index join row backup in_memory records storage",
        }
    ),
    "Human-Computer Interaction (HCI)": _weighted(
        {
            3: (
                "user_experience ux user_interface usability accessibility wireframe figma touchscreen typography "
                "user_research a11y virtual_reality augmented_reality ergonomics eye_tracking"
            ),
            2.5: "cognitive gesture gestures persona personas",
            2: "interaction designer designers prototyping vr intuitive perception",
            1.5: "prototype navigation ar keyboard mouse",
            1: "feedback touch screen screens layout buttons click voice display human humans ui",
            0.5: "button users user input interface design",
        }
    ),
    "Programming Languages and Software Development": _weighted(
        {
            3: (
                "programming_language programming_languages compiler compilers type_system type_safety type_inference "
                "static_typing rust zig cpp golang kotlin haskell ocaml lisp scala elixir erlang perl lua "
                "garbage_collector garbage_collection interpreter interpreted bytecode jit generics borrow_checker "
                "allocator allocators preprocessor struct structs object_oriented polymorphism enum enums "
                "error_handling package_manager standard_library overloading llvm functional_programming compile_time "
                "segfault memory_safe memory_safety"
            ),
            2.5: (
                "compile compiled compilation syntax typed closure closures mutable immutable mutability inheritance "
                "keyword keywords semantics executable debugger linter memory_management"
            ),
            2: (
                "python java swift ruby typescript runtime variable variables lambda pointer pointers ownership "
                "allocation allocations allocate macro macros trait traits null exception exceptions concurrency "
                "async await operator operators scope paradigm imperative annotations debugging ide "
                "syntax_highlighting integer integers crate crates"
            ),
            1.5: (
                "types language languages c function functions borrowing heap classes interfaces modules webassembly "
                "declarative refactor source_code programmer programmers boolean undefined"
            ),
            1: (
                "type memory javascript generic reference references stack class interface thread threads library "
                "libraries module code_base codebase programming method methods object objects string strings "
                "low_level high_level dependency dependencies package packages"
            ),
            0.5: "framework frameworks",
        }
    ),
    "Software Engineering and System Design": _weighted(
        {
            3: (
                "software_engineering system_design scalability scalable microservice microservices monolith docker "
                "dockerfile kubernetes devops continuous_integration unit_test unit_tests version_control code_review "
                "agile scrum maintainability maintainable design_pattern design_patterns load_balancer load_balancing "
                "message_queue distributed_systems fault_tolerance api_design orchestration container_image "
                "container_images base_image base_images docker_image technical_debt cron_job"
            ),
            2.5: "deployment container containers git aws azure gcp serverless infrastructure",
            2: (
                "deploy deployed deploying ci testing refactoring distributed cloud monitoring staging virtualization "
                "best_practices modular cron"
            ),
            1.5: (
                "architecture tests github requirements caching availability logging production environments "
                "dependencies registry open_source workflow automation productivity abstraction abstractions engineer "
                "engineers engineering"
            ),
            1: (
                "scale pipeline pipelines test integration maintain maintaining latency throughput environment "
                "dependency framework frameworks server servers teams design code_base codebase refactor"
            ),
            0.5: "images image release build team project",
        }
    ),
    "Web Development and Internet Technologies": _weighted(
        {
            3: (
                "http https browser browsers reactjs css html frontend front_end website websites url urls dom nodejs "
                "node_js rest_api graphql ajax angular angularjs vue svelte nextjs next_js jsx webpack vite tailwind "
                "jquery php django dns cdn websocket websockets oauth cors single_page ssr server_side client_side "
                "hydration props deno nginx wordpress seo internet web_development web_app web_apps ecmascript "
                "stylesheet html5"
            ),
            2.5: "react backend back_end web endpoint endpoints npm flask hosting state_management",
            2: (
                "javascript api apis json routing cookie cookies component components rails tcp ssl tls "
                "authentication spa hooks bun responsive webassembly js templating"
            ),
            1.5: (
                "server servers express fetch request requests route routes bootstrap domain hook protocol protocols "
                "typescript"
            ),
            1: "node rest response session client clients frameworks framework ui render template",
            0.5: "rendering",
        }
    ),
    "Computer Graphics and Visualization": _weighted(
        {
            3: (
                "graphics shader shaders polygon polygons vertex vertices opengl vulkan directx webgl webgpu "
                "ray_tracing raytracing blender svg frame_rate rasterization anti_aliasing voxel"
            ),
            2.5: "pixel pixels texture textures mesh meshes 3d unreal fps geometry sprite sprites",
            2: (
                "renderer triangle triangles 2d lighting animation animations game_engine game_engines unity "
                "visualization visualizations canvas d3"
            ),
            1.5: "rendering camera",
            1: "gpu color colors",
            0.5: "image images",
        }
    ),
    "Theoretical Computer Science": _weighted(
        {
            3: (
                "theorem theorems turing turing_machine automata automaton computability decidable undecidable "
                "halting_problem complexity_class np_complete np_hard regular_language lambda_calculus boolean_logic "
                "set_theory graph_theory category_theory type_theory information_theory formal_verification lemma "
                "finite_state"
            ),
            2.5: "proof proofs np polynomial induction",
            2: "prove grammar grammars regular_expression cryptography entropy theoretical state_machine computation",
            1.5: "exponential formal logic mathematics mathematical theory computational",
            1: "math reduction",
        }
    ),
    "Quantum Computing": _weighted(
        {
            3: (
                "quantum qubit qubits superposition entanglement entangled quantum_computer quantum_computers "
                "quantum_computing quantum_gate hadamard shor grover decoherence qiskit bloch_sphere "
                "quantum_supremacy"
            ),
            2.5: "photon photons",
            2: "amplitude amplitudes annealing",
            1.5: "interference error_correction",
            0.5: "spin",
        }
    ),
}

# Fields whose material is harder or easier than its word choice alone suggests; added to the score.
FIELD_DEPTH: dict[str, float] = {
    "Theoretical Computer Science": 0.08,
    "Quantum Computing": 0.08,
    "Artificial Intelligence (AI) and Machine Learning": 0.05,
    "Computer Architecture": 0.03,
    "Algorithms and Data Structures": 0.03,
    "Human-Computer Interaction (HCI)": -0.05,
    "Web Development and Internet Technologies": -0.03,
}

# Fields that a video in the key field most likely also touches, closest first: a weak or absent
# lexicon signal for the second and third field is settled by kinship rather than by noise.
RELATED_FIELDS: dict[str, tuple[str, ...]] = {
    "Algorithms and Data Structures": (
        "Theoretical Computer Science",
        "Programming Languages and Software Development",
        "Data Science and Analytics",
    ),
    "Artificial Intelligence (AI) and Machine Learning": (
        "Data Science and Analytics",
        "Software Engineering and System Design",
        "Algorithms and Data Structures",
    ),
    "Computer Architecture": (
        "Programming Languages and Software Development",
        "Software Engineering and System Design",
        "Algorithms and Data Structures",
    ),
    "Data Science and Analytics": (
        "Artificial Intelligence (AI) and Machine Learning",
        "Database Systems and Management",
        "Computer Graphics and Visualization",
    ),
    "Database Systems and Management": (
        "Software Engineering and System Design",
        "Data Science and Analytics",
        "Algorithms and Data Structures",
    ),
    "Human-Computer Interaction (HCI)": (
        "Web Development and Internet Technologies",
        "Computer Graphics and Visualization",
        "Software Engineering and System Design",
    ),
    "Programming Languages and Software Development": (
        "Software Engineering and System Design",
        "Computer Architecture",
        "Algorithms and Data Structures",
    ),
    "Software Engineering and System Design": (
        "Programming Languages and Software Development",
        "Web Development and Internet Technologies",
        "Database Systems and Management",
    ),
    "Web Development and Internet Technologies": (
        "Software Engineering and System Design",
        "Programming Languages and Software Development",
        "Database Systems and Management",
    ),
    "Computer Graphics and Visualization": (
        "Computer Architecture",
        "Algorithms and Data Structures",
        "Human-Computer Interaction (HCI)",
    ),
    "Theoretical Computer Science": (
        "Algorithms and Data Structures",
        "Quantum Computing",
        "Programming Languages and Software Development",
    ),
    "Quantum Computing": (
        "Theoretical Computer Science",
        "Computer Architecture",
        "Algorithms and Data Structures",
    ),
}

# When fewer than three fields match anything, the rest come from the fields most CS videos touch.
FALLBACK_FIELDS: tuple[str, ...] = (
    "Programming Languages and Software Development",
    "Software Engineering and System Design",
    "Algorithms and Data Structures",
)
