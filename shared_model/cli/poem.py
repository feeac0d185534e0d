"""``lstmgen poem tang``: a form-true Tang poem (绝句/律诗), acrostic, rhyme, tone, keywords.

Thin: flags -> PoemRequest + SamplingConfig -> Studio -> printed poem or JSON.
"""

from __future__ import annotations

import click

from shared_model.cli.generation import run_and_print, sampling_config, sampling_options


@click.command()
@click.argument("style", type=click.Choice(["tang"]), default="tang")
@click.option("--form", default=None,
              help="5j 五言绝句, 7j 七言绝句, 5l 五言律诗, 7l 七言律诗 "
                   "(default: from --acrostic's length, else 5j).")
@click.option("--acrostic", default="", help="藏头: the first character of each line (4 or 8).")
@click.option("--prompt", default="", help="The poem's opening characters (at most one line).")
@click.option("--keyword", "keywords", multiple=True,
              help="Steer the theme towards this character (repeatable), e.g. 月.")
@click.option("--keyword-strength", type=float, default=1.5, show_default=True,
              help="How strongly keywords steer (nats; 0 = off).")
@click.option("--rhyme", type=click.Choice(["xinyun", "pingshui", "none"]), default="xinyun",
              show_default=True, help="Rhyme groups: 中华新韵, 平水韵, or no rhyme rule.")
@click.option("--rhyme-first-line", is_flag=True, help="Line 1 rhymes too.")
@click.option("--tonal", is_flag=True, help="Enforce 平仄 at the 2nd/4th/6th characters.")
@click.option("--tones", type=click.Choice(["modern", "pingshui"]), default="modern",
              show_default=True, help="Tone classes: modern Mandarin (pypinyin) or 平水韵.")
@click.option("--allow-repeat", is_flag=True, help="Allow a character twice in the poem.")
@click.option("--script", type=click.Choice(["simplified", "traditional"]), default=None,
              help="Output script (default: the model's).")
@sampling_options("tang")
def poem(style: str, form: str | None, acrostic: str, prompt: str, keywords: tuple[str, ...],
         keyword_strength: float, rhyme: str, rhyme_first_line: bool, tonal: bool, tones: str,
         allow_repeat: bool, script: str | None, model: str, temperature: float, top_k: int,
         top_p: float, repetition_penalty: float, seed: int | None, n: int, no_save: bool,
         as_json: bool) -> None:
    """Write a poem in STYLE (tang), e.g. lstmgen poem tang --form 7j --acrostic 春夏秋冬."""
    from shared_model.api import GenerateRequest
    from shared_model.domains.tang.request import PoemRequest

    request = PoemRequest(form=form, acrostic=acrostic, prompt=prompt, keywords=keywords,
                          keyword_strength=keyword_strength, rhyme=rhyme,
                          rhyme_first_line=rhyme_first_line, tonal=tonal, tones=tones,
                          no_repeat=not allow_repeat, script=script)
    sampling = sampling_config(temperature, top_k, top_p, repetition_penalty, seed)
    run_and_print(GenerateRequest(model, sampling=sampling, n=n, domain_request=request),
                  as_json=as_json, no_save=no_save)
