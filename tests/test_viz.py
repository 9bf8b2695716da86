"""functrans.viz: the recorded program drawn as DOT text and as SVG, without Graphviz."""
import os
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import viz
from functrans.errors import UnsupportedError


def f(x, y):
    return fnp.sum(fnp.sin(x) * y + x ** 2)


def test_graph_has_one_node_per_input_operation_and_output():
    g = viz.graph(f, np.ones(3), 2.0)
    kinds = [n.kind for n in g.nodes]
    assert kinds.count("input") == 2 and kinds.count("output") == 1
    program = ft.make_jaxpr(f)(np.ones(3), 2.0)
    assert [n.label for n in g.nodes if n.kind == "op"] == [e.prim.name for e in program.eqns]
    ids = {n.id for n in g.nodes}
    assert all(a in ids and b in ids for a, b in g.edges)


def test_input_labels_follow_argument_names_and_key_paths():
    def loss(params, x):
        return fnp.sum(params["w"] * x + params["b"])

    g = viz.graph(loss, {"w": np.ones(2), "b": np.zeros(2)}, np.ones(2))
    assert [n.label for n in g.nodes if n.kind == "input"] == ["params['b']", "params['w']", "x"]


def test_outputs_are_labelled_by_their_place_in_the_returned_tree():
    g = viz.graph(ft.grad(lambda p, x: fnp.sum(p["w"] * x), argnums=(0, 1)), {"w": np.ones(2)}, np.ones(2))
    assert [n.label for n in g.nodes if n.kind == "output"] == ["out[0]['w']", "out[1]"]


def test_a_recorded_program_can_be_drawn_directly():
    program = ft.make_jaxpr(f)(np.ones(3), 2.0)
    assert viz.to_dot(program).count("->") == viz.to_dot(f, np.ones(3), 2.0).count("->")
    with pytest.raises(TypeError):
        viz.to_dot(program, np.ones(3))


def test_dot_text_names_every_primitive_of_the_backward_pass():
    dot = viz.to_dot(ft.grad(f), np.ones(3), 2.0)
    assert dot.startswith("digraph program {") and dot.rstrip().endswith("}")
    for name in ("sin", "cos", "mul", "reduce_sum", "broadcast_in_dim"):
        assert f'label="{name}' in dot


def test_svg_is_well_formed_deterministic_and_labelled():
    svg = viz.to_svg(ft.grad(f), np.ones(3), 2.0, title="grad of f")
    assert svg == viz.to_svg(ft.grad(f), np.ones(3), 2.0, title="grad of f")
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "grad of f" in texts and "cos" in texts and "out" in texts
    paths = list(root.iter("{http://www.w3.org/2000/svg}path"))
    assert len(paths) - 1 == len(viz.graph(ft.grad(f), np.ones(3), 2.0).edges)  # minus the arrowhead


def test_multiple_outputs_and_constants():
    g = viz.graph(lambda x: (x * 2.0, fnp.exp(x) + np.arange(3.0)), np.ones(3))
    assert [n.label for n in g.nodes if n.kind == "output"] == ["out[0]", "out[1]"]
    assert any(n.kind == "const" and n.detail == "float64[3]" for n in g.nodes)
    ET.fromstring(viz.to_svg(lambda x: (x * 2.0, fnp.exp(x) + np.arange(3.0)), np.ones(3)))


def test_render_writes_svg_without_graphviz(tmp_path):
    path = str(tmp_path / "g.svg")
    assert viz.render(f, np.ones(3), 2.0, path=path, engine="builtin") == path
    ET.parse(path)


@pytest.mark.skipif(shutil.which("dot") is not None, reason="Graphviz is installed here")
def test_render_says_what_to_install_for_other_formats(tmp_path):
    with pytest.raises(UnsupportedError, match="Graphviz"):
        viz.render(f, np.ones(3), 2.0, path=str(tmp_path / "g.png"))
    with pytest.raises(UnsupportedError, match="apt install graphviz"):
        viz.render(f, np.ones(3), 2.0, path=str(tmp_path / "g.svg"), engine="dot")
    assert not os.listdir(tmp_path)


def test_bad_engine_and_non_function():
    with pytest.raises(ValueError, match="engine"):
        viz.render(f, 1.0, 2.0, path="x.svg", engine="neato")
    with pytest.raises(TypeError, match="function"):
        viz.to_dot(3.0)
