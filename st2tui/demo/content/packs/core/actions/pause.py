"""core.pause: sleep for `max_pause` seconds (or a random part of it) and return the delay."""

import random as random_module
import time

from st2common.runners.base_action import Action


class PauseAction(Action):
    def run(self, max_pause, random):
        delay = random_module.randint(1, int(max_pause)) if random else max_pause
        time.sleep(delay)
        return delay
