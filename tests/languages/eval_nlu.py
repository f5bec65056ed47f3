"""NLU per language on held-out questions (my own phrasings, never in data/nlu): intent accuracy of the trained
model (models/clinic.tar.gz), for reports/languages/REPORT.md.

    .venv/bin/python -m tests.languages.eval_nlu
"""
from __future__ import annotations

import asyncio

HELD_OUT = {
    "zh-Hant": [("腳跟痛通常要幾耐先好返？", "ask_recovery_time"), ("我要休息幾多個月？", "ask_recovery_time"),
                ("用鞋跟墊會唔會舒服啲？", "ask_heel_lifts"), ("應唔應該買後跟墊", "ask_heel_lifts"),
                ("跟腱痛仲跑唔跑得？", "ask_keep_running"), ("我可唔可以照常練跑", "ask_keep_running"),
                ("有咩練習可以強化跟腱", "ask_exercises"), ("唔該晒你", "thank"), ("早晨呀", "greet"),
                ("你係咪電腦嚟？", "bot_challenge"), ("我想搵診所嘅人", "request_human"), ("拜拜喇", "goodbye")],
    "zh-Hans": [("跟腱疼一般要多久才好？", "ask_recovery_time"), ("我需要休息几个月？", "ask_recovery_time"),
                ("用足跟垫会不会好一点？", "ask_heel_lifts"), ("该不该买后跟垫", "ask_heel_lifts"),
                ("跟腱疼还能跑吗？", "ask_keep_running"), ("我可以照常训练跑步吗", "ask_keep_running"),
                ("有什么练习能加强跟腱", "ask_exercises"), ("谢谢你啊", "thank"), ("早上好呀", "greet"),
                ("你是电脑吗？", "bot_challenge"), ("我想找诊所的人", "request_human"), ("拜拜啦", "goodbye")],
    "es": [("¿cuánto tardaré en recuperarme del aquiles?", "ask_recovery_time"),
           ("¿cuántos meses de reposo necesito?", "ask_recovery_time"),
           ("¿me vendría bien una talonera?", "ask_heel_lifts"), ("¿compro alzas para el talón?", "ask_heel_lifts"),
           ("con este dolor, ¿puedo salir a correr?", "ask_keep_running"),
           ("¿sigo con mis entrenamientos de carrera?", "ask_keep_running"),
           ("¿qué ejercicios fortalecen el tendón?", "ask_exercises"), ("gracias de verdad", "thank"),
           ("hola, buenos días", "greet"), ("¿eres humano?", "bot_challenge"),
           ("quiero que me atienda una persona", "request_human"), ("adiós y gracias", "goodbye")],
}


async def _evaluate() -> dict[str, tuple[int, int, list[str]]]:
    from rasa.core.agent import Agent

    from bot.paths import MODELS_DIR

    agent = Agent.load(str(MODELS_DIR / "clinic.tar.gz"))
    results = {}
    for language, cases in HELD_OUT.items():
        right, misses = 0, []
        for text, intent in cases:
            parsed = await agent.parse_message(text)
            got = parsed["intent"]["name"]
            if got == intent:
                right += 1
            else:
                misses.append(f"{text!r}: expected {intent}, got {got} ({parsed['intent']['confidence']:.2f})")
        results[language] = (right, len(cases), misses)
    return results


def main() -> None:
    results = asyncio.run(_evaluate())
    print("| language | held-out questions | intent right |\n|---|---|---|")
    for language, (right, total, _) in results.items():
        print(f"| {language} | {total} | {right} ({right / total:.0%}) |")
    for language, (_, _, misses) in results.items():
        for miss in misses:
            print(f"- {language}: {miss}")


if __name__ == "__main__":
    main()
