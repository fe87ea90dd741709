"""The C++ statement of a dataflow stage: a call of a library function template."""

from __future__ import annotations

from typing import Callable

from fxhls.escaping import Code
from fxhls.templating import render


def stage_call(function: str, template_args, constants=()) -> Callable[..., str]:
    """A layer's "call": `(*streams) -> str`, the statement
    `function<template_args>(streams..., constants...);`."""
    template_args, constants = [str(a) for a in template_args], list(constants)

    def call(*streams: str) -> str:
        return Code(render("hls/layers/stage_call.cpp.j2", function=function, template_args=template_args,
                           arguments=[*streams, *constants]).rstrip("\n"))

    return call
