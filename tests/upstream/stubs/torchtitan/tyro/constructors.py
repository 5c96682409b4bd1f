"""tyro.constructors stand-in: ConfigManager.register_tyro_rules registers two rules."""


class PrimitiveTypeInfo:
    pass


class PrimitiveConstructorSpec:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class ConstructorRegistry:
    def __init__(self):
        self.rules = []

    def primitive_rule(self, fn):
        self.rules.append(fn)
        return fn
