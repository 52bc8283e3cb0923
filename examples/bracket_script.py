"""A part script: ``mechbench analyze examples/bracket_script.py --method fdm --material pla --quantity 20``.

The analysis runs ``build()`` in a sandboxed child process (CPU, memory, file-size and open-file limits,
a private temporary directory, no credentials in its environment) and analyses the solid it returns.
"""

from build123d import Align, Axis, Box, BuildPart, Cylinder, Locations, Mode, fillet


def build():
    with BuildPart() as p:
        Box(80, 40, 8, align=(Align.CENTER, Align.CENTER, Align.MIN))
        with Locations((-40, 0, 0)):
            Box(8, 40, 50, align=(Align.MIN, Align.CENTER, Align.MIN))
        fillet(p.edges().filter_by(Axis.Y).group_by(Axis.Z)[0], 1.0)
        with Locations((-15, -10, 0), (-15, 10, 0), (25, -10, 0), (25, 10, 0)):
            Cylinder(3.2, 8, align=(Align.CENTER, Align.CENTER, Align.MIN), mode=Mode.SUBTRACT)
    return p.part
