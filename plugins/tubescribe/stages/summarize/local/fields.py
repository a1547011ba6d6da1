"""The local summarizer's computer-science lexicon: which words place a video in which of the twelve
general fields, how hard each field reads, and which fields go together.

Written by hand from general CS vocabulary, never tuned to particular videos (like `lexicon.py`,
which holds the word lists for topic tags). Terms are lower case, words joined by single spaces.

Over 300 lines because it is one table of data with no logic beyond `_weighted`: twelve fields of
terms, their depth and their kin. Split up, a field's terms would be read apart from its weights.
"""

from __future__ import annotations


def _weighted(groups: dict[float, str]) -> dict[str, float]:
    return {term.replace("_", " "): weight for weight, terms in groups.items() for term in terms.split()}


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
