-- /root/hello.lua in the romvisor lua appliance: a first look at Lua 5.4,
-- running on an emulated RISC-V hart. Try: lua /root/hello.lua
print("Hello from " .. _VERSION .. " on RISC-V!")

-- Tables are Lua's one data structure: here, an array of records.
local planets = {
  { name = "Mercury", au = 0.387 }, { name = "Venus",  au = 0.723 },
  { name = "Earth",   au = 1.000 }, { name = "Mars",   au = 1.524 },
  { name = "Jupiter", au = 5.203 }, { name = "Saturn", au = 9.537 },
}
-- Kepler's third law: the orbital period in years is a^1.5 for a in AU.
for _, p in ipairs(planets) do
  print(string.format("%-8s %6.3f AU  year = %7.2f Earth years", p.name, p.au, p.au ^ 1.5))
end

-- Closures and integers: primes below 50 with a sieve.
local function primes_below(n)
  local composite, found = {}, {}
  for i = 2, n - 1 do
    if not composite[i] then
      found[#found + 1] = i
      for j = i * i, n - 1, i do composite[j] = true end
    end
  end
  return found
end
print("primes below 50: " .. table.concat(primes_below(50), " "))

-- Coroutines: a generator that yields Fibonacci numbers.
local fib = coroutine.wrap(function()
  local a, b = 0, 1
  while true do coroutine.yield(a); a, b = b, a + b end
end)
local first = {}
for i = 1, 12 do first[i] = fib() end
print("fibonacci: " .. table.concat(first, " "))
print(string.format("64-bit integers: math.maxinteger = %d", math.maxinteger))
