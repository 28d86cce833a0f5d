"""GPIO fakes: a fresh gpiozero MockFactory per test and an MCP3008 on mock SPI pins."""

from __future__ import annotations

from typing import Any


def mock_factory() -> Any:
    from gpiozero.pins.mock import MockFactory

    return MockFactory()


def mock_mcp3008(factory: Any, vref: float = 3.3) -> Any:
    """An MCP3008 answering on SPI0 (SCLK 11, MOSI 10, MISO 9, CE0 8): set ``.channels[n]``
    to a voltage. Speaks the real protocol: start bit, single/diff bit, 3 channel bits,
    then a null bit and 10 result bits, MSB first."""
    from gpiozero.pins.mock import MockSPIDevice

    class MockMcp3008(MockSPIDevice):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(11, 10, 9, 8, pin_factory=factory)
            self.vref = vref
            self.channels = [0.0] * 8
            self.state = "idle"

        def on_start(self) -> None:
            super().on_start()
            self.state = "idle"

        def on_bit(self) -> None:
            if self.state == "idle":
                if self.rx_buf[-1]:
                    self.state = "mode"
                    self.rx_buf = []
            elif self.state == "mode":
                self.state = "single" if self.rx_buf[-1] else "diff"
                self.rx_buf = []
            elif self.state in ("single", "diff"):
                if len(self.rx_buf) == 3:
                    volts = min(max(self.channels[self.rx_word()], 0.0), self.vref)
                    self.tx_word(round(volts / self.vref * 1023), 12)
                    self.state = "result"
            elif self.state == "result" and not self.tx_buf:
                self.state = "idle"
                self.rx_buf = []

    return MockMcp3008()
