"""The report's colours: one palette, assigned to the modes in their order (from the data),
so that a mode nobody has heard of is drawn like any other."""

PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#000000", "#f0e442",
           "#999999", "#8c564b", "#17becf", "#bcbd22"]


def mode_colors(modes):
    """Colours assigned in mode order (from the data), the palette reused past its end."""
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(modes)}
