"""An ffmpeg argument list read back into what ffmpeg builds from it, to compare two commands.

``read`` splits a command into global options, inputs, the filters of its graph and outputs.
``canonical`` keeps only what ffmpeg builds, so two lists with the same canonical form are
the same command written differently:

- global options, in their order;
- every output in order, with its streams in ``-map`` order (the output's stream order), its
  other options as a mapping (no option appears twice in one output, so ffmpeg applies each to
  that output whatever the order) and its file name;
- every mapped stream as the tree of filters it comes from: names, positional arguments in
  order, named options as a mapping (ffmpeg sets them by name, in any order), inputs in pad
  order, down to an input's stream; link labels and the choice between chaining with ``,`` and
  linking through a named label are forgotten, since they describe the same links;
- every file input, with its options as a mapping (they all apply to that input) and its URL.

Two more spellings of one graph are equated: a simple filtergraph (``-af``) on an output's one
mapped input stream is a graph between that stream and the output, and a ``-f lavfi`` input
holding a single source filter (``anullsrc=...``) is that source filter in the graph.
Escaped characters are refused: the graphs compared here have none, so no value was altered.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

GLOBAL_FLAGS = frozenset({"-hide_banner", "-nostdin", "-nostats", "-y"})
GLOBAL_OPTIONS = frozenset({"-loglevel", "-progress"})
FLAGS = frozenset({"-vn", "-an", "-sn", "-dn"})
_FILTER = re.compile(r"((?:\[[^\]]+\])*)([^\[\]]+)((?:\[[^\]]+\])*)")
_LABEL = re.compile(r"\[([^\]]+)\]")


@dataclass(frozen=True)
class Filter:
    name: str
    positional: tuple[str, ...]
    named: dict[str, str]
    inputs: tuple[str, ...]  # link labels, or input streams such as "0:v:0"
    outputs: tuple[str, ...]


@dataclass
class Input:
    options: dict[str, str | None]
    url: str


@dataclass
class Output:
    maps: list[str]
    options: dict[str, str | None]
    filename: str


@dataclass
class Command:
    global_options: list[str] = field(default_factory=list)
    inputs: list[Input] = field(default_factory=list)
    graph: str = ""
    outputs: list[Output] = field(default_factory=list)

    @property
    def filters(self) -> list[Filter]:
        return parse_graph(self.graph)

    def producer(self, label: str) -> Filter | None:
        return next((f for f in self.filters if label in f.outputs), None)

    def upstream(self, label: str) -> list[Filter]:
        """The filters from a link up to an input, following each filter's first input."""
        found: list[Filter] = []
        while (producer := self.producer(label)) is not None:
            found.append(producer)
            if not producer.inputs:
                break
            label = producer.inputs[0]
        return found


def _options(pairs: list[tuple[str, str | None]]) -> dict[str, str | None]:
    options = dict(pairs)
    assert len(options) == len(pairs), f"an option given twice: {pairs}"
    return options


def read(args: list[str]) -> Command:
    command = Command()
    pairs: list[tuple[str, str | None]] = []
    maps: list[str] = []
    tokens = iter(args[1:])
    for token in tokens:
        if token in GLOBAL_FLAGS:
            command.global_options.append(token)
        elif token in GLOBAL_OPTIONS:
            command.global_options += [token, next(tokens)]
        elif token == "-filter_complex":
            command.graph = next(tokens)
        elif token == "-i":
            command.inputs.append(Input(_options(pairs), next(tokens)))
            pairs = []
        elif token == "-map":
            maps.append(next(tokens))
        elif token in FLAGS:
            pairs.append((token, None))
        elif token.startswith("-") and token != "-":
            pairs.append((token, next(tokens)))
        else:
            command.outputs.append(Output(maps, _options(pairs), token))
            pairs, maps = [], []
    assert not pairs and not maps, "trailing options"
    _simple_graphs_into_the_graph(command)
    return command


def _simple_graphs_into_the_graph(command: Command) -> None:
    """``-map 0:a:0 -af CHAIN`` becomes ``[0:a:0]CHAIN[af<n>]`` and ``-map [af<n>]``."""
    chains = [command.graph] if command.graph else []
    for number, output in enumerate(command.outputs):
        chain = output.options.pop("-af", None)
        if chain is None:
            continue
        (stream,) = output.maps
        chains.append(f"[{stream}]{chain}[af{number}]")
        output.maps = [f"[af{number}]"]
    command.graph = ";".join(chains)


def _filter(body: str, inputs: list[str], outputs: list[str]) -> Filter:
    assert "\\" not in body and "'" not in body, f"escaped characters in {body!r}"
    name, _, text = body.partition("=")
    params = text.split(":") if text else []
    positional = tuple(p for p in params if "=" not in p)
    named = dict(p.split("=", 1) for p in params if "=" in p)
    assert params[: len(positional)] == list(positional), f"positional after named: {body!r}"
    assert len(named) == len(params) - len(positional), f"an option given twice: {body!r}"
    return Filter(name, positional, named, tuple(inputs), tuple(outputs))


def _chain(number: int, chain: str) -> Iterator[Filter]:
    specs = chain.split(",")
    for index, spec in enumerate(specs):
        match = _FILTER.fullmatch(spec)
        assert match, f"cannot read {spec!r}"
        inputs, outputs = _LABEL.findall(match[1]), _LABEL.findall(match[3])
        assert index == 0 or not inputs, f"labelled input inside a chain: {chain!r}"
        assert index == len(specs) - 1 or not outputs, f"labelled output inside: {chain!r}"
        if index > 0:
            inputs = [f"#{number}.{index}"]
        if index < len(specs) - 1:
            outputs = [f"#{number}.{index + 1}"]
        yield _filter(match[2], inputs, outputs)


def parse_graph(graph: str) -> list[Filter]:
    if not graph:
        return []
    return [f for number, chain in enumerate(graph.split(";")) for f in _chain(number, chain)]


class _Canonical:
    def __init__(self, command: Command) -> None:
        self.command = command
        self.filters = command.filters
        self.used: set[int] = set()

    def stream(self, label: str) -> Any:
        for index, producer in enumerate(self.filters):
            if label in producer.outputs:
                self.used.add(index)
                return ("pad", self.filter(producer), producer.outputs.index(label))
        return self.input_stream(label)

    def filter(self, spec: Filter) -> Any:
        inputs = tuple(self.stream(label) for label in spec.inputs)
        return (spec.name, spec.positional, sorted(spec.named.items()), inputs)

    def input_stream(self, label: str) -> Any:
        number, _, selector = label.partition(":")
        source = self.command.inputs[int(number)]
        if source.options == {"-f": "lavfi"}:  # one source filter, its only stream
            (generator,) = parse_graph(source.url)
            return ("pad", self.filter(generator), 0)
        return ("input", sorted(source.options.items()), source.url, selector)

    def output(self, output: Output) -> Any:
        maps = tuple(self.stream(m[1:-1]) if m.startswith("[") else self.input_stream(m)
                     for m in output.maps)  # fmt: skip
        return (maps, sorted(output.options.items()), output.filename)


def canonical(args: list[str]) -> Any:
    """What ffmpeg builds from ``args`` (see the module's docstring); every filter used."""
    command = read(args)
    reader = _Canonical(command)
    outputs = [reader.output(output) for output in command.outputs]
    assert reader.used == set(range(len(reader.filters))), "a filter feeds no output"
    files = [
        (sorted(i.options.items()), i.url) for i in command.inputs if i.options != {"-f": "lavfi"}
    ]
    return (args[0], command.global_options, files, outputs)
