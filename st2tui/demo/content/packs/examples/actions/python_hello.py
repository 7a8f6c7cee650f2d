"""examples.python-hello: a Python action written the way st2 packs write them."""

from st2common.runners.base_action import Action


class HelloAction(Action):
    def run(self, name, count=1):
        self.logger.info("Greeting %s %d time(s)", name, count)
        greeting = f"Hello, {name}!"
        for number in range(1, count + 1):
            print(f"{greeting} ({number}/{count})")
        return {"greeting": greeting, "count": count, "letters": sum(c.isalpha() for c in name)}
