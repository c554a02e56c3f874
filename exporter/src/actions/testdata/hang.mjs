// A restart that never returns (a hung service manager): the agent's timeout must end it.
setInterval(() => {}, 1000);
